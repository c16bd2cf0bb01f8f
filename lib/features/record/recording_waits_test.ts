import assert from "node:assert/strict";
import { silentDebug } from "../../core/debug.ts";
import type { ManagedProcess } from "./managed_process.ts";
import { OutputLog } from "./output_log.ts";
import {
  appDied,
  lastOutput,
  RecordingWaits,
  stepFailed,
  succeeded,
  until,
} from "./recording_waits.ts";
import type { RecordingStop } from "./recording_stop.ts";

/** A stop that never comes, unless `request` is called. */
function fakeStop() {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
  return {
    stop: { requested: promise, grace: (ms: number) => ms } as unknown as RecordingStop,
    request: resolve,
  };
}

Deno.test("succeeded(), lastOutput(), stepFailed() and appDied() say how a process ended", async () => {
  const dir = await Deno.makeTempDir();
  const log = await OutputLog.open(`${dir}/app.log`);
  try {
    assert.equal(succeeded({ code: 0 }), true);
    assert.equal(succeeded({ code: 1 }), false);
    assert.equal(succeeded({ signal: "SIGKILL" }), false);
    assert.equal(succeeded(undefined), false);
    assert.equal(lastOutput(log), "", "nothing written: nothing to show");
    log.note("starting\nport in use\n");
    assert.equal(lastOutput(log), `; last output in "${dir}/app.log":\nstarting\nport in use`);
    assert.equal(
      stepFailed({ name: "initdb", command: ["initdb"] }, { code: 1 }, log).message,
      `initdb failed (exit code 1); last output in "${dir}/app.log":\nstarting\nport in use`,
    );
    assert.match(
      appDied("redis-server", { signal: "SIGSEGV" }, log).message,
      /^redis-server exited during the recording \(.*SIGSEGV.*\); last output in /,
    );
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("until() resolves once the condition holds, and stops checking when aborted", async () => {
  let ready = false;
  const abort = new AbortController();
  const waiting = until(() => ready, abort.signal);
  ready = true;
  assert.deepEqual(await waiting, { kind: "duration" });
  abort.abort();
});

Deno.test("RecordingWaits.step() runs a step to its end; a stop signal cuts it short", async () => {
  const dir = await Deno.makeTempDir();
  const log = await OutputLog.open(`${dir}/steps.log`);
  const started: ManagedProcess[] = [];
  const { stop, request } = fakeStop();
  const waits = new RecordingWaits({ stop, tracer: () => undefined, started, debug: silentDebug });
  try {
    const done = await waits.step(
      { name: "fail", command: ["sh", "-c", "echo oops; exit 3"] },
      log,
      dir,
    );
    assert.deepEqual(done, { kind: "step exit", status: { code: 3 } });
    const long = waits.step({ name: "sleep", command: ["sleep", "30"] }, log, dir);
    request("SIGINT");
    assert.deepEqual(await long, { kind: "signal", signal: "SIGINT" });
    assert.equal(started.length, 2, "both steps are known, to be killed at the end");
    assert.notEqual(await started[1].status, undefined, "the cut step was stopped");
    assert.match(log.text, /\$ sh -c 'echo oops; exit 3'\noops\n/);
  } finally {
    for (const process of started) process.killGroup();
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
