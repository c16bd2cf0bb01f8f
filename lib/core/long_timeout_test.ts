import assert from "node:assert/strict";
import { MAX_TIMER_MS, setLongInterval, setLongTimeout } from "./long_timeout.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("setLongTimeout() does not fire a delay beyond 2^31 - 1 ms early (setTimeout would after 1 ms)", async () => {
  let fired = false;
  const timer = setLongTimeout(() => fired = true, MAX_TIMER_MS + 1);
  const hours = setLongTimeout(() => fired = true, 600 * 3_600_000);
  await sleep(100);
  timer.clear();
  hours.clear();
  assert.equal(fired, false);
});

Deno.test("setLongTimeout() chains segments until the whole delay has passed", async () => {
  const start = performance.now();
  let firedAt = 0;
  await new Promise<void>((resolve) =>
    setLongTimeout(
      () => {
        firedAt = performance.now() - start;
        resolve();
      },
      200,
      { maxSegmentMs: 30 },
    )
  );
  assert.ok(firedAt >= 199, `fired after ${firedAt} ms`);
});

Deno.test("setLongTimeout() fires a short delay like setTimeout, and clear() stops it between segments", async () => {
  let short = 0;
  setLongTimeout(() => short++, 10);
  let cut = 0;
  const timer = setLongTimeout(() => cut++, 100, { maxSegmentMs: 20 });
  await sleep(50);
  timer.clear();
  await sleep(120);
  assert.equal(short, 1);
  assert.equal(cut, 0);
});

Deno.test("setLongTimeout() with Infinity arms nothing; a negative delay fires at once", async () => {
  let fired = 0;
  const never = setLongTimeout(() => fired += 10, Infinity);
  setLongTimeout(() => fired++, -5);
  await sleep(30);
  never.clear();
  assert.equal(fired, 1);
});

Deno.test("setLongInterval() beyond the segment length repeats at the whole period", async () => {
  const start = performance.now();
  const times: number[] = [];
  let twice: () => void;
  const done = new Promise<void>((resolve) => twice = resolve);
  const timer = setLongInterval(
    () => {
      times.push(performance.now() - start);
      if (times.length === 2) twice();
    },
    60,
    { maxSegmentMs: 25 },
  );
  await done;
  timer.clear();
  await sleep(150);
  assert.equal(times.length, 2, "fired after clear()");
  // Anchored to the start, not to a late firing: the nth comes n whole periods after it.
  assert.ok(times[0] >= 59 && times[1] >= 119, `${times}`);
});

Deno.test("setLongInterval() of 1000 h fires nothing soon (setInterval would every ms)", async () => {
  let fired = 0;
  const timer = setLongInterval(() => fired++, 1000 * 3_600_000, { unref: true });
  await sleep(50);
  timer.clear();
  assert.equal(fired, 0);
});
