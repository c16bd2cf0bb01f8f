import assert from "node:assert/strict";
import { ProgressWaiters, WriterWakeup } from "./wakeups.ts";

Deno.test("WriterWakeup: a kick ends a sleep without end, and leaves no timer", async () => {
  const wakeup = new WriterWakeup();
  let woke = false;
  const sleeping = wakeup.sleep(Infinity).then(() => woke = true);
  await Promise.resolve();
  assert.equal(woke, false);
  wakeup.kick();
  await sleeping;
  assert.equal(woke, true);
  const timed = wakeup.sleep(60_000);
  wakeup.kick(); // clears the 60 s timer: the test sanitizer would fail on it
  await timed;
});

Deno.test("ProgressWaiters.notify() resolves every waiter at once", async () => {
  const progress = new ProgressWaiters();
  const waiting = [progress.wait(60_000), progress.wait(60_000)];
  progress.notify();
  await Promise.all(waiting);
  progress.notify(); // nobody waits: nothing happens
});
