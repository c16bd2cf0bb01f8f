import assert from "node:assert/strict";
import { parseTracerPid, tracerPid } from "./tracer_pid.ts";
import { straced } from "./_test_strace.ts";

Deno.test("parseTracerPid() reads the TracerPid line, 0 without one", () => {
  assert.equal(
    parseTracerPid("Name:\tsleep\nState:\tS (sleeping)\nTracerPid:\t4242\nUid:\t0\n"),
    4242,
  );
  assert.equal(parseTracerPid("Name:\tsleep\nTracerPid:\t0\n"), 0);
  assert.equal(parseTracerPid("Name:\tsleep\n"), 0);
});

Deno.test("tracerPid() is 0 for an untraced process and for one that is gone", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    assert.equal(tracerPid(child.pid), 0);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(tracerPid(child.pid), 0);
});

Deno.test("tracerPid() names strace for a process it traces", async () => {
  await using sleeper = await straced("sleep", ["30"]);
  assert.equal(tracerPid(sleeper.pid), sleeper.stracePid);
});
