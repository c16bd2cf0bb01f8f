import assert from "node:assert/strict";
import { checkPerfettoRules } from "../tef/perfetto_rules.ts";
import {
  type AnomalyEvent,
  type SyscallEvent,
  SyscallTefEncoder,
  tefMicroseconds,
} from "./syscall_events.ts";

const T0 = 1_764_000_000_000.25;

function anomaly(partial: Partial<AnomalyEvent>): AnomalyEvent {
  return {
    kind: "anomaly",
    time: T0 + 300,
    pid: 500,
    tid: 500,
    comm: "app",
    syscall: "read",
    nr: 0,
    startTime: T0,
    latencyNs: 300_000_000,
    zScore: 12.5,
    meanNs: 1000,
    stddevNs: 200,
    reasons: ["zscore"],
    ...partial,
  };
}

function interval(partial: Partial<SyscallEvent>): SyscallEvent {
  return {
    kind: "syscall",
    scope: "interval",
    time: T0 + 1000,
    startTime: T0,
    pid: 500,
    calls: 2500,
    errors: 10,
    totalNs: 1e6,
    rows: [],
    lostEvents: 0,
    ...partial,
  };
}

Deno.test("SyscallTefEncoder puts anomalies as slices on their thread, named once", () => {
  const encoder = new SyscallTefEncoder({ pid: 1, tid: 4 });
  const first = encoder.anomaly(anomaly({}));
  assert.deepEqual(first.map((e) => [e.ph, e.name]), [
    ["M", "process_name"],
    ["M", "thread_name"],
    ["X", "read"],
  ]);
  const slice = first[2];
  assert.equal(slice.ts, tefMicroseconds(T0));
  assert.equal(slice.dur, 300_000);
  assert.equal(slice.pid, 500);
  assert.equal(slice.tid, 500);
  const worker = encoder.anomaly(anomaly({ tid: 501, comm: "worker", errno: "EINTR" }));
  assert.deepEqual(worker.map((e) => [e.ph, e.name]), [["M", "thread_name"], ["X", "read"]]);
  assert.equal((worker[1].args as Record<string, unknown>).errno, "EINTR");
  assert.equal(encoder.anomaly(anomaly({ startTime: T0 + 400 })).length, 1);
});

Deno.test("SyscallTefEncoder renames a thread's track when it runs under a new name", () => {
  const encoder = new SyscallTefEncoder({ pid: 1, tid: 4 });
  const before = encoder.anomaly(anomaly({ comm: "python3" }));
  const after = encoder.anomaly(anomaly({ comm: "slow", startTime: T0 + 400 }));
  const again = encoder.anomaly(anomaly({ comm: "slow", startTime: T0 + 800 }));
  assert.deepEqual(after.map((e) => [e.ph, e.name, (e.args as { name?: string }).name]), [
    ["M", "process_name", "slow"],
    ["M", "thread_name", "slow"],
    ["X", "read", undefined],
  ]);
  assert.equal(again.length, 1, "named once per name");
  // Each slice keeps the name its thread had when it ran.
  const comms = [before, after, again].map((events) =>
    (events.find((e) => e.ph === "X")!.args as { comm: string }).comm
  );
  assert.deepEqual(comms, ["python3", "slow", "slow"]);
  assert.deepEqual(checkPerfettoRules([...before, ...after, ...again]), []);
});

Deno.test("SyscallTefEncoder never lets two slices of one thread overlap", () => {
  const encoder = new SyscallTefEncoder({ pid: 1, tid: 4 });
  // The clock offset moved by 2 µs between the two conversions: the second would overlap.
  const events = [
    ...encoder.anomaly(anomaly({ startTime: T0, latencyNs: 5_000_000 })),
    ...encoder.anomaly(anomaly({ startTime: T0 + 4.998, latencyNs: 1_000_000 })),
  ];
  assert.deepEqual(checkPerfettoRules(events), []);
});

Deno.test("SyscallTefEncoder turns intervals into per-second counters and the total into an instant", () => {
  const encoder = new SyscallTefEncoder({ pid: 1, tid: 4 });
  const counters = encoder.syscall(interval({}));
  assert.deepEqual(counters.map((e) => [e.ph, e.name, e.args]), [
    ["C", "syscalls/s", { calls: 2500 }],
    ["C", "syscall errors/s", { errors: 10 }],
  ]);
  const [total] = encoder.syscall(interval({
    scope: "total",
    rows: [{
      name: "read",
      nr: 0,
      calls: 3,
      errors: 1,
      errnos: { EAGAIN: 1 },
      totalNs: 2_000_000,
      meanNs: 666_666,
      p50Ns: 1,
      p99Ns: 1,
      maxNs: 1,
    }],
  }));
  assert.equal(total.ph, "i");
  assert.equal(total.pid, 1);
  assert.equal(total.tid, 4);
  assert.deepEqual((total.args as Record<string, unknown>).top, ["read: 3 calls, 2 ms, 1 errors"]);
  assert.deepEqual(
    checkPerfettoRules([...counters, total, ...encoder.anomaly(anomaly({}))]),
    [],
  );
});

Deno.test("SyscallTefEncoder writes whole microseconds, so back-to-back slices never overlap in Perfetto", () => {
  const encoder = new SyscallTefEncoder({ pid: 1, tid: 4 });
  // 1.0004 ms each, the second starting where the first ended: fractions of a µs.
  const start = T0 + 0.0003;
  const slices = [0, 1].map((i) =>
    encoder.anomaly(anomaly({ startTime: start + i * 1.0004, latencyNs: 1_000_400 }))
      .find((event) => event.ph === "X")!
  );
  for (const slice of slices) {
    assert.ok(Number.isInteger(slice.ts) && Number.isInteger(slice.dur), JSON.stringify(slice));
  }
  // Perfetto converts ts and dur to integer ns separately and adds them.
  const endNs = BigInt(slices[0].ts as number) * 1000n + BigInt(slices[0].dur as number) * 1000n;
  assert.ok(endNs <= BigInt(slices[1].ts as number) * 1000n);
  assert.equal(slices[0].dur, 1001, "rounded up: a slice is never shorter than the call");
});
