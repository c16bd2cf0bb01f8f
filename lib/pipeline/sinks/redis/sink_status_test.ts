import assert from "node:assert/strict";
import type { StatusEvent } from "../../../core/event.ts";
import { delay } from "../../../core/timers.ts";
import type { Backlog } from "./backlog.ts";
import { SinkStatus } from "./sink_status.ts";
import type { SpooledEvent } from "./spooled_event.ts";

/** A SinkStatus whose drop reports land in `reports`; `drop(n)` counts and reports n drops. */
function statusWithDrops(intervalMs: number) {
  const reports: StatusEvent["fields"][] = [];
  let dropped = 0;
  const backlog = {
    pushNotice: (record: SpooledEvent) => reports.push((record.event as StatusEvent).fields),
    enqueue: () => assert.fail("drop reports wait apart, in memory"),
  } as unknown as Backlog;
  const status = new SinkStatus({
    address: "127.0.0.1:6379",
    where: 'Redis at "127.0.0.1:6379"',
    runId: "run",
    pid: () => 1,
    backlog: () => backlog,
    spool: undefined,
    memoryLimit: 1000,
    accepted: () => {},
    dropped: () => dropped,
    redact: (text) => text,
    debug: () => {},
    dropReportIntervalMs: intervalMs,
  });
  const drop = (count: number) => {
    dropped += count;
    status.reportDrops(count);
  };
  return { status, reports, drop };
}

Deno.test("SinkStatus says drops held back by its interval when the interval ends, without another drop", async () => {
  const { status, reports, drop } = statusWithDrops(150);
  drop(3); // the first is said at once
  drop(4);
  drop(5);
  assert.deepEqual(reports.map((fields) => fields.dropped), [3]);
  await delay(400);
  assert.deepEqual(reports.map((fields) => [fields.dropped, fields.dropped_total]), [[3, 3], [
    9,
    12,
  ]]);
  status.stop();
});

Deno.test("SinkStatus.reportDrops(0, true) says what is held back at once, and its timer then says nothing more", async () => {
  const { status, reports, drop } = statusWithDrops(150);
  drop(1);
  drop(2);
  status.reportDrops(0, true);
  assert.deepEqual(reports.map((fields) => fields.dropped), [1, 2]);
  await delay(400);
  assert.equal(reports.length, 2);
  status.stop();
});

Deno.test("SinkStatus.stop() clears the timer of held-back drops", async () => {
  const { status, reports, drop } = statusWithDrops(100);
  drop(1);
  drop(2);
  status.stop();
  await delay(300);
  assert.deepEqual(reports.map((fields) => fields.dropped), [1]);
});
