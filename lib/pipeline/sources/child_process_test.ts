import assert from "node:assert/strict";
import { isWrappSecret, spawnChild } from "./child_process.ts";
import { SpawnError } from "../../core/errors.ts";

Deno.test("isWrappSecret() picks wrapp's passwords, tokens and keys, not its other variables", () => {
  for (
    const name of [
      "WRAPP_REDIS_PASSWORD",
      "WRAPP_DB_PASSWD",
      "WRAPP_API_TOKEN",
      "WRAPP_CLIENT_SECRET",
      "WRAPP_CREDENTIALS",
      "WRAPP_KEY",
      "WRAPP_API_KEY",
      "WRAPP_KEY_FILE_PASSWORD",
    ]
  ) {
    assert.ok(isWrappSecret(name), name);
  }
  for (
    const name of ["WRAPP_DEBUG", "WRAPP_BPFTRACE", "WRAPP_KEYBOARD", "REDIS_PASSWORD", "PATH"]
  ) {
    assert.ok(!isWrappSecret(name), name);
  }
});

/** Session and process group ids of `pid`, and its command name, from /proc/<pid>/stat. */
function ids(pid: number): { comm: string; pgrp: number; session: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  return { comm, pgrp: Number(fields[2]), session: Number(fields[3]) };
}

Deno.test("spawnChild() starts the program in its own session and group, and signals the whole group", async () => {
  const child = spawnChild({
    executable: "/bin/sh",
    args: ["-c", "sleep 300 & echo $!; wait"],
    cwd: "/tmp",
    env: {},
    clearEnv: true,
  });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const grandchild = Number(new TextDecoder().decode(value).trim());
  try {
    // The grandchild is forked by the program itself: its pid, its exec (no setsid left).
    const mine = ids(child.pid);
    assert.equal(mine.comm, "sh");
    assert.deepEqual([mine.pgrp, mine.session], [child.pid, child.pid]);
    assert.equal(ids(grandchild).pgrp, child.pid);
    assert.notEqual(mine.session, ids(Deno.pid).session);
    assert.equal(child.signalGroup("SIGTERM"), true);
    assert.deepEqual(await child.status, { signal: "SIGTERM" });
  } finally {
    reader.releaseLock();
    await child.stderr.cancel();
    await child.stdout.cancel();
    try {
      Deno.kill(grandchild, "SIGKILL");
    } catch {
      // gone with its group
    }
  }
});

Deno.test("spawnChild() names a prefix program that is not in PATH", () => {
  assert.throws(
    () =>
      spawnChild({
        executable: "/bin/true",
        args: [],
        cwd: "/tmp",
        env: {},
        clearEnv: true,
        prefix: ["wrapp-no-such-setpriv", "--"],
      }),
    (error: unknown) => {
      assert.ok(error instanceof SpawnError);
      assert.equal(
        error.message,
        'Cannot start "/bin/true": "wrapp-no-such-setpriv" is not in PATH',
      );
      return true;
    },
  );
});
