import assert from "node:assert/strict";
import type { AnomalyEvent, SyscallEvent } from "./syscall_events.ts";
import { SyscallTracer } from "./syscall_tracer.ts";
import { latencyBucket } from "./latency_histogram.ts";
import { fakeBpftrace, printf } from "./_fake_bpftrace.ts";

function latMap(entries: [nr: number, latencies: number[]][]): string {
  const data: Record<string, { count: number; average: number; total: number }> = {};
  for (const [nr, latencies] of entries) {
    for (const ns of latencies) {
      const key = `0,${nr},${latencyBucket(ns)}`;
      const v = data[key] ?? { count: 0, average: 0, total: 0 };
      v.count++;
      v.total += ns;
      v.average = Math.floor(v.total / v.count);
      data[key] = v;
    }
  }
  return JSON.stringify({ type: "stats", data: { "@lat": data } });
}

Deno.test("SyscallTracer turns the program's output into interval events, anomalies and a summary", async () => {
  const sleeps = Array(10).fill(1_050_000);
  await using fake = await fakeBpftrace(
    [
      JSON.stringify({ type: "attached_probes", data: { probes: 7 } }),
      printf("R 1000000000"),
      printf("S 100 101 230 1100000000 300000000 0 worker"),
      printf("M 2000000000 0"),
      latMap([[230, [...sleeps, 300_000_000]], [257, [900, 1100]]]),
      JSON.stringify({ type: "map", data: { "@err": { "0,257,2": 1 } } }),
      printf("m"),
      printf("X 2100000000 100"),
    ],
    [
      printf("M 2200000000 1"),
      latMap([[230, [...sleeps, 300_000_000]], [257, [900, 1100, 1000]], [39, [150, 160]]]),
      JSON.stringify({ type: "map", data: { "@err": { "0,257,2": 2 } } }),
      printf("m"),
    ],
  );
  const events: (SyscallEvent | AnomalyEvent)[] = [];
  const tracer = await SyscallTracer.start({
    pid: 100,
    bpftrace: fake.path,
    program: fake.program,
    arch: "x86_64",
    filter: new Set([230, 257]),
    emit: (event) => events.push(event),
  });
  await tracer.rootExited;
  const summary = await tracer.stop();

  const anomalies = events.filter((e): e is AnomalyEvent => e.kind === "anomaly");
  assert.equal(anomalies.length, 1);
  const [anomaly] = anomalies;
  assert.equal(anomaly.syscall, "clock_nanosleep");
  assert.equal(anomaly.tid, 101);
  assert.equal(anomaly.comm, "worker");
  assert.equal(anomaly.latencyNs, 300_000_000);
  assert.deepEqual(anomaly.reasons, ["zscore"]);
  assert.ok(anomaly.zScore! > 100, `z ${anomaly.zScore}`);
  assert.ok(Math.abs(anomaly.meanNs! - 1_050_000) < 1);
  // Kernel ns → wall-clock ms: the call started 100 ms after R, and ended 300 ms later.
  assert.ok(Math.abs(anomaly.time - anomaly.startTime - 300) < 1e-6);

  const intervals = events.filter((e): e is SyscallEvent =>
    e.kind === "syscall" && e.scope === "interval"
  );
  assert.equal(intervals.length, 1);
  assert.deepEqual(intervals[0].rows.map((r) => [r.name, r.calls, r.errors]), [
    ["clock_nanosleep", 11, 0],
    ["openat", 2, 1],
  ]);

  const total = events.find((e): e is SyscallEvent => e.kind === "syscall" && e.scope === "total");
  assert.ok(total);
  assert.deepEqual(summary.rows.map((r) => [r.name, r.calls, r.errors, r.errnos]), [
    ["clock_nanosleep", 11, 0, {}],
    ["openat", 3, 2, { ENOENT: 2 }],
  ], "getpid is filtered out");
  assert.equal(summary.calls, 14);
  assert.equal(summary.errors, 2);
  assert.equal(summary.rows[0].maxNs, 300_000_000, "exact: seen as a slow call");
  assert.equal(summary.anomalyCount, 1);
  assert.equal(summary.complete, true);
  assert.equal(summary.floorNs, 1_000_000);
  assert.deepEqual(summary.threads, { 101: "worker" });
});

Deno.test("SyscallTracer follows thread renames: the summary names a thread by its latest name", async () => {
  await using fake = await fakeBpftrace(
    [
      JSON.stringify({ type: "attached_probes", data: { probes: 7 } }),
      printf("R 1000000000"),
      printf("N 100 100 1000000100 python3"),
      printf("S 100 100 230 1100000000 300000000 0 python3"),
      // Renamed after its last slow call: only the N line tells.
      printf("N 100 100 1500000000 slow"),
      // A thread renamed by another (a write to /proc/100/task/102/comm).
      printf("N 100 102 1600000000 worker 2"),
      printf("X 2100000000 100"),
    ],
    [printf("M 2200000000 1"), latMap([[230, [300_000_000]]]), printf("m")],
  );
  const tracer = await SyscallTracer.start({
    pid: 100,
    bpftrace: fake.path,
    program: fake.program,
    arch: "x86_64",
  });
  await tracer.rootExited;
  const summary = await tracer.stop();
  assert.deepEqual(summary.threads, { 100: "slow", 102: "worker 2" });
});

Deno.test("a slow call read after the maps printed after it is judged against those maps", async () => {
  // bpftrace reads one buffer per CPU: on a busy machine the 300 ms sleep's line (CPU 1)
  // comes after the maps of 2 s (CPU 0). Judged against the next maps, which also hold a
  // later 1.2 s sleep, it would not stand out any more.
  const sleeps = Array(30).fill(1_050_000);
  await using fake = await fakeBpftrace(
    [
      printf("R 1000000000"),
      printf("M 2000000000 0"),
      latMap([[230, [...sleeps, 300_000_000]]]),
      printf("m"),
      printf("S 100 100 230 1100000000 300000000 0 slow"),
      printf("S 102 102 230 2100000000 1200000000 0 sleep"),
      printf("M 3500000000 0"),
      latMap([[230, [...sleeps, 300_000_000, 1_200_000_000]]]),
      printf("m"),
      printf("X 3600000000 100"),
    ],
    [
      printf("M 3700000000 1"),
      latMap([[230, [...sleeps, 300_000_000, 1_200_000_000]]]),
      printf("m"),
    ],
  );
  const anomalies: AnomalyEvent[] = [];
  const tracer = await SyscallTracer.start({
    pid: 100,
    bpftrace: fake.path,
    program: fake.program,
    arch: "x86_64",
    emit: (event) => event.kind === "anomaly" && anomalies.push(event),
  });
  await tracer.rootExited;
  await tracer.stop();
  assert.deepEqual(anomalies.map((a) => [a.comm, a.latencyNs]), [
    ["slow", 300_000_000],
    ["sleep", 1_200_000_000],
  ]);
});

Deno.test("SyscallTracer passes pid, floor, per-thread flag and the exit numbers as parameters", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = `${dir}/params`;
    await using fake = await fakeBpftrace([printf("R 1")], [printf("M 2 1"), printf("m")]);
    const program = { ...fake.program, text: `echo "$*" > ${log}\n${fake.program.text}` };
    const tracer = await SyscallTracer.start({
      pid: 4242,
      bpftrace: fake.path,
      program,
      arch: "aarch64",
      perThread: true,
      anomaly: { slowNs: 250_000 },
    });
    const summary = await tracer.stop();
    assert.equal((await Deno.readTextFile(log)).trim(), "4242 250000 1 93 94");
    assert.equal(summary.rows.length, 0);
    assert.equal(summary.complete, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SyscallTracer judges the last slow calls on the last maps when bpftrace dies", async () => {
  await using fake = await fakeBpftrace(
    [
      printf("R 1000"),
      printf("M 2000 0"),
      latMap([[0, [100, 100, 100, 100, 100, 100]]]),
      printf("m"),
      printf("S 100 100 0 3000 5000000 0 app"),
    ],
    "ignore SIGINT", // killed: no END output
  );
  const tracer = await SyscallTracer.start({
    pid: 100,
    bpftrace: fake.path,
    program: fake.program,
    stopTimeoutMs: 200,
    arch: "x86_64",
    anomaly: { thresholdSigma: 3 },
  });
  const failed = await Promise.race([
    tracer.failed,
    new Promise((resolve) => setTimeout(() => resolve("still running"), 300)),
  ]);
  assert.equal(failed, "still running");
  const summary = await tracer.stop();
  assert.equal(summary.complete, false);
  assert.equal(summary.rows[0]?.name, "read");
  assert.equal(summary.anomalyCount, 1);
});
