import assert from "node:assert/strict";
import { checkPerfettoRules } from "../../pipeline/tef/perfetto_rules.ts";
import type {
  AnomalyEvent,
  SyscallEvent,
  SyscallRow,
} from "../../pipeline/syscalls/syscall_events.ts";
import { syscallNumber } from "../../pipeline/syscalls/syscall_table.ts";
import type { SlowCall } from "../../pipeline/syscalls/tracer_lines.ts";
import { PHASES_TID, RecordingTrace, type TefObject } from "./recording_trace.ts";

const T0 = 1_700_000_000_000; // ms since the epoch
const FUTEX = syscallNumber("futex", "x86_64")!;
const EPOLL = syscallNumber("epoll_wait", "x86_64")!;

function call(tid: number, nr: number, startMs: number, latencyMs: number, ret = 0): SlowCall {
  return {
    pid: 100,
    tid,
    nr,
    startNs: startMs * 1e6,
    latencyNs: latencyMs * 1e6,
    ret,
    comm: tid === 100 ? "server" : "worker",
  };
}

function row(tid: number, calls: number): SyscallRow {
  return {
    name: "read",
    nr: 0,
    tid,
    calls,
    errors: 0,
    errnos: {},
    totalNs: 0,
    meanNs: 0,
    p50Ns: 0,
    p99Ns: 0,
    maxNs: 0,
  };
}

function interval(time: number, rows: SyscallRow[]): SyscallEvent {
  return {
    kind: "syscall",
    scope: "interval",
    time,
    startTime: time - 1000,
    pid: 100,
    calls: 0,
    errors: 0,
    totalNs: 0,
    rows,
    lostEvents: 0,
  };
}

Deno.test("RecordingTrace: processes, threads, slow calls, anomalies and lifetimes make a valid trace", () => {
  const trace = new RecordingTrace({ wrappPid: 9, rootPid: 100, arch: "x86_64" });
  const events: TefObject[] = [...trace.phasesTrack()];
  events.push(...trace.process(100, "server --port 1", T0));
  events.push(...trace.thread(100, 100, "server"));
  events.push(...trace.thread(100, 101, "worker"));
  assert.deepEqual(trace.thread(100, 101, "worker"), [], "a name is written once");

  trace.slowCall(call(101, FUTEX, 10, 500), T0 + 10);
  trace.slowCall(call(100, EPOLL, 20, 100), T0 + 20);
  // Out of order, and overlapping the previous call after clock conversion.
  trace.slowCall(call(100, EPOLL, 5, 15.5), T0 + 5);
  trace.slowCall(call(100, EPOLL, 119, 2, -4), T0 + 119.9);
  const anomaly = {
    kind: "anomaly",
    tid: 100,
    nr: EPOLL,
    latencyNs: 100e6,
    reasons: ["zscore"],
    zScore: 42.123,
    meanNs: 2e6,
  } as unknown as AnomalyEvent;
  trace.anomaly(anomaly);
  const slices = trace.flush();
  events.push(...slices);
  const x = slices.filter((e) => e.ph === "X");
  assert.deepEqual(
    x.map((e) => [e.tid, e.name, e.cat, e.ts, e.dur]),
    [
      [100, "epoll_wait", "syscall", (T0 + 5) * 1000, 15500],
      [101, "futex", "syscall", (T0 + 10) * 1000, 500000],
      // Back to back on their track in whole µs (see SliceTracks), never overlapping.
      [100, "epoll_wait (anomaly)", "anomaly", (T0 + 20.5) * 1000, 100000],
      [100, "epoll_wait", "syscall", (T0 + 120.5) * 1000, 2000],
    ],
  );
  assert.deepEqual(x[2].args, {
    latency: "100.0 ms",
    latency_ns: 100e6,
    ret: 0,
    anomaly: "zscore",
    z_score: 42.12,
    mean: "2.000 ms",
  });
  assert.equal((x[3].args as Record<string, unknown>).errno, "EINTR");
  assert.equal(trace.slowCallsDrawn, 4);

  events.push(...trace.memory(100, T0 + 250, {
    rssKb: 2048,
    anonKb: 1024,
    fileKb: 1024,
    shmemKb: 0,
    swapKb: 0,
  }));
  events.push(...trace.phase("workload", T0, T0 + 1000, { command: "bench" }));
  events.push(...trace.process(200, "child", T0 + 300));
  events.push(...trace.processExited(200, T0 + 400, { last_seen: true }));
  events.push(...trace.finish(T0 + 2000, { stopped: true }));

  assert.deepEqual(checkPerfettoRules(events), []);
  const names = events.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args]);
  assert.deepEqual(names, [
    [PHASES_TID, { name: "phases" }],
    [100, { name: "server --port 1" }],
    [100, { name: "server" }],
    [101, { name: "worker" }],
    [200, { name: "child" }],
  ]);
  const lifetimes = events.filter((e) => e.name === "lifetime").map((e) => [e.ph, e.pid, e.ts]);
  assert.deepEqual(lifetimes, [
    ["b", 100, T0 * 1000],
    ["b", 200, (T0 + 300) * 1000],
    ["e", 200, (T0 + 400) * 1000],
    ["e", 100, (T0 + 2000) * 1000],
  ]);
  assert.deepEqual(trace.threadNames, { 100: "server", 101: "worker", 200: "child" });
});

Deno.test("RecordingTrace.interval(): calls per second per thread, under each thread's process", () => {
  const trace = new RecordingTrace({ wrappPid: 9, rootPid: 100, arch: "x86_64" });
  trace.process(100, "server", T0);
  trace.thread(100, 101, "io");
  trace.process(200, "backend", T0);
  const first = trace.interval(interval(T0 + 1000, [row(100, 30), row(100, 20), row(101, 5)]));
  assert.deepEqual(first.map((e) => [e.pid, e.name, e.args]), [
    [100, "syscalls/s by thread", { "server 100": 50, "io 101": 5 }],
  ]);
  // 101 went idle: one 0; 200 appears under its own process; an unknown tid under the root.
  const second = trace.interval(interval(T0 + 2000, [row(100, 7), row(200, 3), row(555, 1)]));
  assert.deepEqual(second.map((e) => [e.pid, e.args]), [
    [100, { "server 100": 7, "io 101": 0, "thread 555": 1 }],
    [200, { "backend 200": 3 }],
  ]);
  const third = trace.interval(interval(T0 + 3000, [row(100, 1)]));
  assert.deepEqual(third.map((e) => [e.pid, e.args]), [
    [100, { "server 100": 1, "thread 555": 0 }],
    [200, { "backend 200": 0 }],
  ]);
  assert.deepEqual(checkPerfettoRules([...first, ...second, ...third]), []);
});

Deno.test("RecordingTrace.interval(): a thread counted before it is named takes its name once known", () => {
  const trace = new RecordingTrace({ wrappPid: 9, rootPid: 100, arch: "x86_64" });
  // The first interval can come before the first sample of the traced process.
  const first = trace.interval(interval(T0 + 1000, [row(100, 9)]));
  assert.deepEqual(first.map((e) => e.args), [{ "thread 100": 9 }]);
  trace.process(100, "server", T0 + 1100);
  const second = trace.interval(interval(T0 + 2000, [row(100, 4)]));
  assert.deepEqual(second.map((e) => e.args), [{ "server 100": 4 }]);
  // Named once, the series keeps its name when the thread renames itself.
  trace.thread(100, 100, "renamed");
  const third = trace.interval(interval(T0 + 3000, [row(100, 2)]));
  assert.deepEqual(third.map((e) => e.args), [{ "server 100": 2 }]);
});

Deno.test("RecordingTrace draws at most maxSlowCalls slices and counts the rest", () => {
  const trace = new RecordingTrace({
    wrappPid: 9,
    rootPid: 100,
    arch: "x86_64",
    maxSlowCalls: 2,
  });
  for (let i = 0; i < 5; i++) trace.slowCall(call(100, FUTEX, i * 10, 2), T0 + i * 10);
  const events = trace.flush();
  assert.equal(events.filter((e) => e.ph === "X").length, 2);
  assert.equal(trace.slowCallsDrawn, 2);
  assert.equal(trace.slowCallsNotDrawn, 3);
  // The process and thread of a call nobody announced are named from the call.
  assert.deepEqual(events.filter((e) => e.ph === "M").map((e) => [e.name, e.args]), [
    ["process_name", { name: "server" }],
    ["thread_name", { name: "server" }],
  ]);
});

Deno.test("RecordingTrace: a slow call's thread name beats a /proc sample taken before the thread named itself", () => {
  const trace = new RecordingTrace({ wrappPid: 9, rootPid: 100, arch: "x86_64" });
  trace.process(100, "server", T0);
  // Sampled between pthread_create and prctl(PR_SET_NAME): still the process's name.
  const sampled = trace.thread(100, 101, "server");
  assert.deepEqual(sampled.map((e) => e.args), [{ name: "server" }]);
  trace.slowCall(call(101, FUTEX, 10, 3), T0 + 10);
  const names = trace.flush().filter((e) => e.name === "thread_name" && e.tid === 101);
  assert.deepEqual(names.map((e) => e.args), [{ name: "worker" }]);
});
