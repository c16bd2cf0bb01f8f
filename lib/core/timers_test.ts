import assert from "node:assert/strict";
import { delay, startTimer } from "./timers.ts";

Deno.test("startTimer() calls back once after its delay, and not at all once cleared", async () => {
  const calls: string[] = [];
  const started = performance.now();
  startTimer(() => calls.push("fired"), 30);
  startTimer(() => calls.push("cleared"), 10).clear();
  await delay(80);
  assert.deepEqual(calls, ["fired"]);
  assert.ok(performance.now() - started >= 30);
});

// Whether a timer holds the process: tests/timers_process_test.ts (it runs Deno, which the
// aarch64 lane under qemu cannot start from a test).
