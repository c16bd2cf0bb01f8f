import assert from "node:assert/strict";
import { latencyBucket } from "./latency_histogram.ts";
import { rowTotals, syscallRows, SyscallSnapshot } from "./syscall_stats.ts";

function lat(entries: [tid: number, nr: number, latencies: number[]][]) {
  const map: Record<string, { count: number; average: number; total: number }> = {};
  for (const [tid, nr, latencies] of entries) {
    for (const ns of latencies) {
      const key = `${tid},${nr},${latencyBucket(ns)}`;
      const v = map[key] ?? { count: 0, average: 0, total: 0 };
      v.count++;
      v.total += ns;
      v.average = Math.floor(v.total / v.count);
      map[key] = v;
    }
  }
  return map;
}

Deno.test("syscallRows() reads the maps into rows sorted by total time, errnos by name", () => {
  const snapshot = SyscallSnapshot.fromMaps(
    lat([[0, 39, Array(1000).fill(150)], [0, 257, [800, 900, 1200, 5000, 700]]]),
    { "0,257,2": 3, "0,257,13": 1 },
  );
  const rows = syscallRows(snapshot, { arch: "x86_64" });
  assert.deepEqual(rows.map((r) => [r.name, r.calls, r.errors]), [
    ["getpid", 1000, 0],
    ["openat", 5, 4],
  ]);
  assert.deepEqual(rows[1].errnos, { ENOENT: 3, EACCES: 1 });
  assert.equal(rows[1].totalNs, 8600);
  assert.equal(rows[1].meanNs, 1720);
  assert.equal(rows[1].maxNs, 5000);
  assert.equal(rows[0].tid, undefined);
  assert.deepEqual(rowTotals(rows), { calls: 1005, errors: 4, totalNs: 158_600 });
});

Deno.test("syscallRows() applies the filter and names per-thread rows", () => {
  const snapshot = SyscallSnapshot.fromMaps(
    lat([[101, 39, [100, 100]], [102, 39, [100]], [102, 0, [400]]]),
    undefined,
  );
  const rows = syscallRows(snapshot, { arch: "x86_64", filter: new Set([39]) });
  assert.deepEqual(rows.map((r) => [r.tid, r.name, r.calls]), [[101, "getpid", 2], [
    102,
    "getpid",
    1,
  ]]);
  assert.deepEqual(snapshot.tids(), [101, 102]);
});

Deno.test("syscallRows() takes an exact maximum from the slow calls seen", () => {
  const snapshot = SyscallSnapshot.fromMaps(lat([[0, 230, [1_650_000, 1_600_000]]]), undefined);
  const [estimate] = syscallRows(snapshot, { arch: "x86_64" });
  assert.ok(estimate.maxNs > 1_650_000);
  const [exact] = syscallRows(snapshot, {
    arch: "x86_64",
    observedMax: new Map([["0,230", 1_650_000]]),
  });
  assert.equal(exact.maxNs, 1_650_000);
});

Deno.test("SyscallSnapshot.minus() is the interval between two cumulative printouts", () => {
  const first = SyscallSnapshot.fromMaps(lat([[0, 39, [100, 100]]]), { "0,2,2": 1 });
  const second = SyscallSnapshot.fromMaps(
    lat([[0, 39, [100, 100, 100]], [0, 1, [500]]]),
    { "0,2,2": 3 },
  );
  const rows = syscallRows(second.minus(first), { arch: "x86_64" });
  assert.deepEqual(rows.map((r) => [r.name, r.calls, r.errors]), [
    ["write", 1, 0],
    ["getpid", 1, 0],
    ["open", 2, 2],
  ]);
  assert.equal(second.minus(second).entries.size, 0);
});

Deno.test("SyscallSnapshot.histogramOf() merges every thread", () => {
  const snapshot = SyscallSnapshot.fromMaps(lat([[1, 39, [100]], [2, 39, [100, 3000]]]), undefined);
  const histogram = snapshot.histogramOf(39);
  assert.equal([...histogram.values()].reduce((s, t) => s + t.count, 0), 3);
});
