import assert from "node:assert/strict";
import { SendWatch } from "./send_watch.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("SendWatch calls onStuck for a batch without replies, not for one that had them", async () => {
  const watch = new SendWatch();
  const stuck: string[] = [];
  watch.start(30, () => stuck.push("first"));
  watch.done();
  // The timer armed for the first batch fires early for the second and waits out its time.
  watch.start(60, () => stuck.push("second"));
  while (stuck.length === 0) await sleep(10);
  assert.deepEqual(stuck, ["second"]);
  watch.stop();
});

Deno.test("SendWatch.stop() leaves no timer behind", () => {
  const watch = new SendWatch();
  watch.start(10_000, () => assert.fail("no batch is being sent"));
  watch.stop(); // the test sanitizer fails the test on a pending timer
});
