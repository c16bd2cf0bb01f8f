import assert from "node:assert/strict";
import { parseTracerPid, tracerPid } from "./tracer_pid.ts";

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
  // strace attaches to sleep before its exec; sleep is strace's child.
  const strace = new Deno.Command("strace", {
    args: ["-f", "-o", "/dev/null", "sleep", "30"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let sleepPid = 0;
  try {
    for (let tries = 0; tries < 500 && sleepPid === 0; tries++) {
      const children = await Deno.readTextFile(
        `/proc/${strace.pid}/task/${strace.pid}/children`,
      ).catch(() => "");
      sleepPid = Number(children.trim().split(" ")[0]) || 0;
      if (sleepPid === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.notEqual(sleepPid, 0, "strace started no child");
    assert.equal(tracerPid(sleepPid), strace.pid);
  } finally {
    if (sleepPid !== 0) Deno.kill(sleepPid, "SIGKILL");
    strace.kill("SIGKILL");
    await strace.status;
  }
});
