import assert from "node:assert/strict";
import { latencyBucket } from "./latency_histogram.ts";
import { judgeSlowCalls } from "./slow_call_judge.ts";
import { SyscallSnapshot } from "./syscall_stats.ts";

/** The @lat map of syscall `nr` (process-tree stats) with these latencies, ns. */
function lat(nr: number, latencies: number[]) {
  const map: Record<string, { count: number; average: number; total: number }> = {};
  for (const ns of latencies) {
    const key = `0,${nr},${latencyBucket(ns)}`;
    const v = map[key] ?? { count: 0, average: 0, total: 0 };
    v.count++;
    v.total += ns;
    v.average = Math.floor(v.total / v.count);
    map[key] = v;
  }
  return map;
}

Deno.test("judgeSlowCalls() compares each call with the other calls of its syscall", () => {
  // read (nr 0): twenty 1 ms calls and the 300 ms one being judged.
  const snapshot = SyscallSnapshot.fromMaps(
    lat(0, [...Array(20).fill(1_000_000), 300_000_000]),
    {},
  );
  const slow = { pid: 7, tid: 8, nr: 0, startNs: 5_000_000_000, ret: -4, comm: "app" };
  const anomalies = judgeSlowCalls(
    [{ ...slow, latencyNs: 300_000_000 }, { ...slow, latencyNs: 1_000_000, ret: 10 }],
    snapshot,
    { arch: "x86_64", anomaly: { thresholdSigma: 3 }, toEpochMs: (ns) => 1000 + ns / 1e6 },
  );
  assert.equal(anomalies.length, 1, "the usual 1 ms call is no anomaly");
  const [anomaly] = anomalies;
  assert.equal(anomaly.syscall, "read");
  assert.equal(anomaly.errno, "EINTR");
  assert.deepEqual(anomaly.reasons, ["zscore"]);
  assert.equal(anomaly.startTime, 6000);
  assert.equal(anomaly.time, 6300);
  assert.ok(Math.abs(anomaly.meanNs! - 1_000_000) < 1, "the mean leaves the call out");
});
