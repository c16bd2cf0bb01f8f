import assert from "node:assert/strict";
import { RecordingStop } from "./recording_stop.ts";

Deno.test("RecordingStop: the first signal asks for a clean stop, a second one forces it", async () => {
  const seen: string[] = [];
  const stop = new RecordingStop({
    onFirst: (signal) => seen.push(`first ${signal}`),
    onForce: () => seen.push("force"),
  });
  // Signal listeners do not keep the test alive while it waits for them.
  const alive = setInterval(() => {}, 1000);
  try {
    assert.equal(stop.signal, undefined);
    assert.equal(stop.grace(5000), 5000);
    Deno.kill(Deno.pid, "SIGHUP");
    assert.equal(await stop.requested, "SIGHUP");
    assert.equal(stop.signal, "SIGHUP");
    assert.equal(stop.grace(5000), 5000, "a clean stop keeps its grace periods");
    const forced = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (seen.includes("force")) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    Deno.kill(Deno.pid, "SIGTERM");
    await forced;
    assert.deepEqual(seen, ["first SIGHUP", "force"]);
    assert.equal(stop.grace(5000), 0);
    assert.equal(stop.signal, "SIGHUP");
  } finally {
    clearInterval(alive);
    stop.close();
  }
});
