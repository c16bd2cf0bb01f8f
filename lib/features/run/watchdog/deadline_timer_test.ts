import assert from "node:assert/strict";
import { DeadlineTimer } from "./deadline_timer.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("DeadlineTimer expires once after its period without a kick", async () => {
  const expired: number[] = [];
  const timer = new DeadlineTimer({ onExpire: (silent) => expired.push(silent) });
  timer.start(50);
  assert.equal(timer.running, true);
  await sleep(1000);
  assert.equal(expired.length, 1);
  assert.ok(expired[0] >= 50, `silent for ${expired[0]} ms`);
  assert.equal(timer.running, false);
});

Deno.test("DeadlineTimer kicked within its period is re-armed for what is left, not expired", async () => {
  let clock = 0;
  const expired: number[] = [];
  const timer = new DeadlineTimer({ onExpire: (silent) => expired.push(silent), now: () => clock });
  timer.start(60);
  clock = 40;
  timer.kick(); // the deadline is now 100 on this clock
  clock = 61; // the real timer fires after ~60 ms: 21 since the kick
  await sleep(120);
  assert.deepEqual(expired, []);
  assert.equal(timer.running, true, "re-armed for the 39 ms left");
  clock = 200;
  await sleep(1000);
  assert.deepEqual(expired, [160]);
});

Deno.test("DeadlineTimer does not fire once stopped, and start re-arms it", async () => {
  const expired: number[] = [];
  const timer = new DeadlineTimer({ onExpire: (silent) => expired.push(silent) });
  timer.start(30);
  timer.stop();
  assert.equal(timer.periodMs, 0);
  await sleep(100);
  assert.deepEqual(expired, []);
  timer.kick(); // ignored while stopped
  timer.start(30);
  assert.equal(timer.periodMs, 30);
  await sleep(1000);
  assert.equal(expired.length, 1);
});
