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

/** What a `deno eval` of `code`, which imports the timers, printed before it exited. */
async function printed(code: string): Promise<string> {
  const url = new URL("./timers.ts", import.meta.url).href;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { startTimer } from ${JSON.stringify(url)};\n${code}`],
    stdout: "piped",
  }).output();
  assert.ok(output.success);
  return new TextDecoder().decode(output.stdout);
}

// Whatever the machine's speed: a process held by nothing exits before its timer fires.
Deno.test("a startTimer() keeps the process alive unless unref'd or cleared", async () => {
  const fire = 'console.log("fired")';
  assert.equal(await printed(`startTimer(() => ${fire}, 200);`), "fired\n");
  assert.equal(await printed(`startTimer(() => ${fire}, 200, true);`), "");
  assert.equal(await printed(`startTimer(() => ${fire}, 200).clear();`), "");
});
