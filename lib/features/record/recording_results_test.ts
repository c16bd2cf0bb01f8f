import assert from "node:assert/strict";
import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import { allProcesses } from "./recording_results.ts";
import { RecordingTrace } from "./recording_trace.ts";

Deno.test("allProcesses(): sampled processes get the kernel's thread counts, tracer-only ones are added", () => {
  const trace = new RecordingTrace({ wrappPid: 1, rootPid: 100, arch: "x86_64" });
  trace.process(100, "server");
  trace.thread(100, 101, "worker");
  trace.process(200, "short-lived");
  const row = (tid: number) => ({ tid }) as TraceSummary["rows"][number];
  const summary = { rows: [row(100), row(101), row(200), row(201)] } as TraceSummary;
  const processes = allProcesses(
    [{ pid: 100, title: "server", peakRssKb: 5000, threads: 1 }],
    trace,
    summary,
  );
  assert.deepEqual(processes, [
    { pid: 100, title: "server", peakRssKb: 5000, threads: 2 },
    { pid: 200, title: "short-lived", peakRssKb: 0, threads: 1 },
  ]);
});
