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

/** Exit time of a `deno eval` of `code` that imports the timers, ms. */
async function exitMs(code: string): Promise<number> {
  const url = new URL("./timers.ts", import.meta.url).href;
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { startTimer } from ${JSON.stringify(url)};\n${code}`],
    stdout: "piped",
  }).output();
  assert.ok(output.success);
  return performance.now() - started;
}

Deno.test("a startTimer() keeps the process alive unless unref'd or cleared", async () => {
  const ref = await exitMs("startTimer(() => {}, 3000);");
  const unref = await exitMs("startTimer(() => {}, 3000, true);");
  const cleared = await exitMs("startTimer(() => {}, 3000).clear();");
  assert.ok(ref >= 3000, `a ref'd timer let the process exit after ${ref} ms`);
  assert.ok(unref < 3000, `an unref'd timer held the process ${unref} ms`);
  assert.ok(cleared < 3000, `a cleared timer held the process ${cleared} ms`);
});
