import assert from "node:assert/strict";
import { BurstPacer } from "./burst_pacer.ts";
import { ProgressWaiters } from "./wakeups.ts";

/** A sink seen through the pacer's hooks, driven by hand. */
function fakeSink() {
  const state = { queued: 0, delivered: 0, paused: false };
  const progress = new ProgressWaiters();
  const pacer = new BurstPacer({
    queued: () => state.queued,
    delivered: () => state.delivered,
    paused: () => state.paused,
    progress,
  }, { holdAt: 100, resumeAt: 50, stallMs: 30 });
  /** Redis takes `count` events. */
  const deliver = (count: number) => {
    state.queued -= count;
    state.delivered += count;
    progress.notify();
  };
  return { state, pacer, progress, deliver };
}

Deno.test("BurstPacer lets the producer go on below holdAt, and while the sink is paused", () => {
  const { state, pacer } = fakeSink();
  state.queued = 99;
  assert.equal(pacer.wait(), undefined);
  state.queued = 1000;
  state.paused = true; // Redis down or closing: the spool or memory takes the events
  assert.equal(pacer.wait(), undefined);
});

Deno.test("BurstPacer holds the producer while Redis delivers, until the queue is below resumeAt", async () => {
  const { state, pacer, deliver } = fakeSink();
  state.queued = 100;
  const hold = pacer.wait();
  assert.ok(hold);
  let released = false;
  hold.then(() => released = true);
  for (const left of [90, 70, 51]) {
    deliver(state.queued - left);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(released, false, `released with ${left} queued`);
  }
  deliver(2); // 49 < resumeAt
  await hold;
  assert.equal(state.queued, 49);
});

Deno.test("BurstPacer stops holding when Redis stalls, and holds again once it delivers", async () => {
  const { state, pacer, progress, deliver } = fakeSink();
  state.queued = 500;
  const hold = pacer.wait();
  assert.ok(hold);
  progress.notify(); // progress that delivered nothing does not end the hold early…
  await hold; // …but stallMs without a delivery does
  assert.equal(state.delivered, 0);
  assert.equal(pacer.wait(), undefined, "a stalled Redis holds nobody");
  assert.equal(pacer.wait(), undefined);
  deliver(1);
  const again = pacer.wait();
  assert.ok(again, "Redis delivers again: a burst is paced again");
  state.paused = true; // then goes down: the hold ends at the next wake-up
  progress.notify();
  await again;
});
