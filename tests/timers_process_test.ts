/**
 * Whether a `startTimer()` keeps its process alive: a whole Deno process per case (the
 * aarch64 lane, under qemu, cannot start one from a test, hence here and not in lib/).
 */

import assert from "node:assert/strict";

/** What a `deno eval` of `code`, which imports the timers, printed before it exited. */
async function printed(code: string): Promise<string> {
  const url = new URL("../lib/core/timers.ts", import.meta.url).href;
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
