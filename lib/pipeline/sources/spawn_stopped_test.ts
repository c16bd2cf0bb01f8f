import assert from "node:assert/strict";
import { SpawnError } from "../../core/errors.ts";
import { processState, spawnStopped, waitUntilStopped } from "./spawn_stopped.ts";
import { straced } from "../../core/_test_strace.ts";

Deno.test("spawnStopped() holds the command before exec, and runs it on resume keeping the pid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/report.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\necho "$$ $1" > "${dir}/out"\nexit 7\n`, {
      mode: 0o755,
    });
    const child = await spawnStopped(script, ["hello world"]);
    assert.equal(await processState(child.pid), "T");
    assert.equal(child.executable, script);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(Deno.stat(`${dir}/out`), "nothing ran yet");
    child.resume();
    assert.deepEqual(await child.status, { code: 7 });
    assert.equal((await Deno.readTextFile(`${dir}/out`)).trim(), `${child.pid} hello world`);
    assert.equal(child.kill("SIGTERM"), false, "already gone");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawnStopped() reports a program that does not exist before starting anything", async () => {
  await assert.rejects(
    spawnStopped("wrapp-no-such-program", []),
    (e: unknown) =>
      e instanceof SpawnError && e.exitCode === 127 &&
      e.message === 'Cannot start "wrapp-no-such-program": not found in PATH',
  );
  await assert.rejects(spawnStopped("./nope/x", []), {
    message: 'Cannot start "./nope/x": no executable file there',
  });
});

Deno.test("processState() reads a process's state, undefined once it is gone", async () => {
  assert.equal(await processState(2 ** 30), undefined);
  // Not Deno.pid: qemu-user (the aarch64 test lane) fakes the state of its own process.
  const sleeper = new Deno.Command("sleep", { args: ["5"] }).spawn();
  try {
    // Just spawned, it may still run or wait on a page-in (D) under load; in nanosleep it is S.
    const seen: string[] = [];
    const deadline = Date.now() + 4000;
    while (seen.at(-1) !== "S" && Date.now() < deadline) {
      seen.push((await processState(sleeper.pid)) ?? "");
      if (seen.at(-1) !== "S") await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const state of seen) assert.match(state, /^[RDS]$/, `states seen: ${seen}`);
    assert.equal(seen.at(-1), "S", `states seen: ${seen}`);
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});

Deno.test("waitUntilStopped() says at once that a traced process's stop cannot be seen", async () => {
  // Under strace -f the shell's own SIGSTOP reads "t", like its syscall stops, never "T".
  await using shell = await straced("/bin/sh", ["-c", "kill -STOP $$; sleep 30"]);
  const started = Date.now();
  const stopped = await waitUntilStopped(shell.pid, () => false, 60_000);
  assert.equal(
    stopped,
    `is traced by pid ${shell.stracePid} (strace -f?), so its stop cannot be seen in /proc`,
  );
  assert.ok(Date.now() - started < 60_000, "it did not wait for the timeout");
});

Deno.test("waitUntilStopped() says when the process ended or did not stop in time", async () => {
  const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    assert.equal(
      await waitUntilStopped(sleeper.pid, () => false, 50),
      "did not stop within 0.05 s",
    );
    assert.equal(await waitUntilStopped(sleeper.pid, () => true, 50), "ended");
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});
