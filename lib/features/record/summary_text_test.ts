import assert from "node:assert/strict";
import type { AnomalyEvent, SyscallRow } from "../../pipeline/syscalls/syscall_events.ts";
import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import type { RecordingMetadata } from "./metadata.ts";
import { exitStatusJson, formatMetadata } from "./metadata.ts";
import { formatRecordingSummary } from "./summary_text.ts";

const START = Date.UTC(2026, 10, 25, 14, 10, 40, 123);

const METADATA: RecordingMetadata = {
  app: "redis",
  command: ["/usr/bin/redis-server", "--save", "", "--port", "4000"],
  workload: ["/usr/bin/redis-benchmark", "-q"],
  app_version: "7.0.15",
  wrapp_version: "0.1.0",
  bpftrace_version: "0.17.0",
  kernel: "6.1.0",
  arch: "x86_64",
  host: "box",
  start: new Date(START).toISOString(),
  end: new Date(START + 10_500).toISOString(),
  duration_s: 10.5,
  events: 100,
  lost_events: 0,
  syscalls: 1060,
  syscall_errors: 1,
  slow_syscalls: 3,
  anomalies: 2,
  processes: 1,
  threads: 3,
  exit_status: { code: 0, signal: null },
  workload_exit_status: { code: null, signal: "SIGINT" },
  stopped_by: "duration",
  problem: null,
};

function row(tid: number, name: string, calls: number, totalNs: number): SyscallRow {
  return {
    name,
    nr: 0,
    tid,
    calls,
    errors: 0,
    errnos: {},
    totalNs,
    meanNs: totalNs / calls,
    p50Ns: 1000,
    p99Ns: 2000,
    maxNs: 3000,
  };
}

function anomaly(tid: number, latencyMs: number, offsetMs: number): AnomalyEvent {
  return {
    kind: "anomaly",
    time: START + offsetMs + latencyMs,
    pid: 100,
    tid,
    comm: "redis-server",
    syscall: "epoll_wait",
    nr: 232,
    startTime: START + offsetMs,
    latencyNs: latencyMs * 1e6,
    zScore: 12.5,
    meanNs: 20_000,
    stddevNs: 1000,
    reasons: ["zscore"],
  };
}

const TRACE: TraceSummary = {
  pid: 100,
  arch: "x86_64",
  startTime: START,
  endTime: START + 10_000,
  perThread: true,
  floorNs: 1_000_000,
  calls: 1060,
  errors: 1,
  totalNs: 5e9,
  // The idle thread spent the most time (one long futex), the main thread made the calls.
  rows: [
    row(102, "futex", 1, 3e9),
    row(100, "epoll_wait", 1000, 1.9e9),
    row(100, "write", 50, 0.1e9),
    row(101, "futex", 9, 1e6),
  ],
  threads: { 100: "redis-server", 101: "bio_aof", 102: "bio_close_file" },
  anomalies: [anomaly(100, 5, 2000), anomaly(100, 40, 100)],
  anomalyCount: 2,
  lostEvents: 0,
  complete: true,
};

Deno.test("formatRecordingSummary(): what ran, how it ended, results, processes, tables, anomalies", () => {
  const text = formatRecordingSummary({
    metadata: METADATA,
    trace: TRACE,
    processes: [{
      pid: 100,
      title: "redis-server 127.0.0.1:4000",
      startTime: START + 300,
      endTime: START + 10_400,
      peakRssKb: 12_390,
      threads: 3,
    }],
    threadNames: TRACE.threads,
    threadProcess: () => 100,
    results: ["SET: 1000 requests/s"],
  });
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    "wrapp record redis: 10.5 s on box (x86_64, Linux 6.1.0), 2026-11-25 14:10:40 UTC",
  );
  assert.ok(
    text.includes("app       version 7.0.15: /usr/bin/redis-server --save '' --port 4000\n"),
    text,
  );
  assert.ok(text.includes("workload  /usr/bin/redis-benchmark -q\n"));
  assert.ok(
    text.includes("stopped   after the duration; app: exit code 0; workload: signal SIGINT\n"),
  );
  assert.ok(text.includes("\nworkload results\n  SET: 1000 requests/s\n"));
  assert.ok(
    text.includes(
      "syscalls  1060 calls, 1 failed, 5.000 s inside calls; 3 took 1.000 ms or more; 2 anomalies",
    ),
  );
  assert.ok(
    text.includes(
      "processes 1 (3 threads)\n  pid 100  3 threads  peak RSS  12.1 MiB  0.3–10.4 s  redis-server 127.0.0.1:4000\n",
    ),
    text,
  );
  // Busiest thread (most calls) first, each a table of its own with its total.
  const headings = lines.filter((l) => /^(process|thread) \d+/.test(l));
  assert.deepEqual(headings, [
    "process 100 (redis-server 127.0.0.1:4000)",
    "thread 101 (bio_aof) of process 100",
    "thread 102 (bio_close_file) of process 100",
  ]);
  assert.match(text, /^100\.00 +2\.000000 +[\d.]+ +1050 +total$/m);
  // Slowest anomaly first.
  const anomalies = lines.slice(lines.findIndex((l) => l.startsWith("top anomalies")));
  assert.equal(
    anomalies[0],
    "top anomalies (2 of 2, slowest first; times from the start of tracing)",
  );
  assert.match(anomalies[1], /^ {2}\+0\.100s .* epoll_wait {2}40\.00 ms/);
  assert.match(anomalies[2], /^ {2}\+2\.000s .* epoll_wait {2}5\.000 ms/);
});

Deno.test("formatRecordingSummary(): at most maxThreads tables; a problem and no trace", () => {
  const text = formatRecordingSummary({
    metadata: METADATA,
    trace: TRACE,
    processes: [],
    threadNames: TRACE.threads,
    results: [],
    maxThreads: 1,
  });
  assert.match(text, /^… 2 more threads with 10 calls in all$/m);
  assert.doesNotMatch(text, /workload results/);

  const failed = formatRecordingSummary({
    metadata: {
      ...METADATA,
      stopped_by: "error",
      problem: "initdb failed (exit code 1)",
      exit_status: null,
      workload: null,
      workload_exit_status: null,
      bpftrace_version: null,
    },
    processes: [],
    threadNames: {},
    results: [],
  });
  assert.match(failed, /^stopped {3}by an error$/m);
  assert.match(failed, /^problem {3}initdb failed \(exit code 1\)$/m);
  assert.match(failed, /^wrapp {5}0\.1\.0, bpftrace not run$/m);
  assert.doesNotMatch(failed, /syscalls by thread/);
});

Deno.test("metadata: exit statuses as JSON, fields in order", () => {
  assert.deepEqual(exitStatusJson({ code: 3 }), { code: 3, signal: null });
  assert.deepEqual(exitStatusJson({ signal: "SIGKILL" }), { code: null, signal: "SIGKILL" });
  assert.equal(exitStatusJson(undefined), null);
  const text = formatMetadata(METADATA);
  assert.ok(text.endsWith("}\n"));
  assert.deepEqual(Object.keys(JSON.parse(text)).slice(0, 5), [
    "app",
    "command",
    "workload",
    "app_version",
    "wrapp_version",
  ]);
});
