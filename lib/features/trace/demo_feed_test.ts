import assert from "node:assert/strict";
import { rowTotals, syscallRows } from "../../pipeline/syscalls/syscall_stats.ts";
import { DemoFeed } from "./demo_feed.ts";

function run(seed: number, ticks: number) {
  const feed = new DemoFeed({ arch: "x86_64", seed, startTime: 0 });
  const anomalies = [];
  for (let i = 0; i < ticks; i++) {
    feed.tick();
    anomalies.push(...feed.takeAnomalies());
  }
  const rows = syscallRows(feed.latest()!.snapshot, { arch: "x86_64" });
  return { feed, rows, totals: rowTotals(rows), anomalies };
}

Deno.test("DemoFeed gives the same numbers for the same seed and ticks", () => {
  const a = run(7, 100);
  const b = run(7, 100);
  assert.deepEqual(a.rows, b.rows);
  assert.deepEqual(a.anomalies, b.anomalies);
  assert.notDeepEqual(run(8, 100).totals, a.totals, "another seed, other numbers");
});

Deno.test("DemoFeed makes about 100,000 syscalls per simulated second, with errors and anomalies", () => {
  const { feed, rows, totals, anomalies } = run(1, 20 * 30); // 30 s at 50 ms
  assert.equal(feed.time, 30_000);
  const perSecond = totals.calls / 30;
  assert.ok(perSecond > 90_000 && perSecond < 110_000, `${perSecond} calls/s`);
  assert.ok(totals.errors > 0);
  assert.ok(rows.some((row) => row.name === "read") && rows.some((row) => row.name === "futex"));
  assert.ok(anomalies.length >= 5 && anomalies.length <= 30, `${anomalies.length} anomalies`);
});

Deno.test("DemoFeed completes after endAfterTicks and then stops counting", () => {
  const feed = new DemoFeed({ arch: "aarch64", endAfterTicks: 3 });
  for (let i = 0; i < 5; i++) feed.tick();
  assert.equal(feed.ticks, 3);
  assert.equal(feed.header().state, "complete");
  assert.equal(feed.header().exit, "exit code 0");
  assert.ok(syscallRows(feed.latest()!.snapshot, { arch: "aarch64" }).length >= 10);
});
