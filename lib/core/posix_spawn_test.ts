import assert from "node:assert/strict";
import type { ByteReader } from "./byte_reader.ts";
import { posixSpawn, posixSpawner } from "./posix_spawn.ts";

/** This machine's glibc and poller: the tests run where wrapp does (glibc, Linux ≥ 5.3). */
function spawner() {
  const found = posixSpawner();
  assert.ok(found, "posix_spawn through FFI is not usable here");
  return found;
}

async function readText(reader: ByteReader): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  const decoder = new TextDecoder();
  for (let chunk = await reader.read(buffer); chunk; chunk = await reader.read(buffer)) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text;
}

/** Open descriptors of this process. */
function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test("posixSpawn() runs the program with its args, env and cwd; reads stdout and stderr; reports its exit code", async () => {
  const { c, poller } = spawner();
  const before = openFds();
  const child = posixSpawn(c, poller, {
    path: "/bin/sh",
    argv: ["sh", "-c", 'echo "out $1 $GREETING $(pwd)"; echo err >&2; exit 3', "sh", "arg"],
    env: { GREETING: "hello", PATH: "/usr/bin:/bin" },
    cwd: "/tmp",
  });
  const [stdout, stderr, status] = await Promise.all([
    readText(child.stdout),
    readText(child.stderr),
    child.status,
  ]);
  assert.equal(stdout, "out arg hello /tmp\n");
  assert.equal(stderr, "err\n");
  assert.deepEqual(status, { code: 3 });
  assert.equal(openFds(), before, "a pipe or the pidfd was left open");
});

Deno.test("posixSpawn() starts a session of its own, nothing ignored or blocked, and reports a signal", async () => {
  const { c, poller } = spawner();
  const child = posixSpawn(c, poller, {
    path: "/bin/sh",
    argv: ["sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status; echo ready; exec sleep 30"],
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/",
  });
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("ready\n")) {
    const chunk = await child.stdout.read(buffer);
    assert.ok(chunk, `the output ended early: ${text}`);
    text += new TextDecoder().decode(chunk);
  }
  // wrapp ignores SIGPIPE (Deno does): the child must not inherit that.
  assert.match(text, /^SigIgn:\s+0{16}$/m);
  assert.match(text, /^SigBlk:\s+0{16}$/m);
  const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
  const [pgrp, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(2, 4).map(Number);
  assert.deepEqual([pgrp, session], [child.pid, child.pid]);
  Deno.kill(-child.pid, "SIGTERM");
  assert.deepEqual(await child.status, { signal: "SIGTERM" });
  assert.equal(await child.stdout.read(buffer), undefined);
  assert.equal(await readText(child.stderr), "");
});

Deno.test("posixSpawn() says why a program cannot start, and leaves nothing open", () => {
  const { c, poller } = spawner();
  const before = openFds();
  const spawn = (path: string, cwd: string) => () =>
    posixSpawn(c, poller, { path, argv: [path], env: {}, cwd });
  assert.throws(
    spawn("/no/such/program", "/"),
    /^Error: "\/no\/such\/program": no such file or directory \(errno 2\)$/,
  );
  const text = Deno.makeTempFileSync({ prefix: "wrapp-not-executable-" });
  try {
    assert.throws(spawn(text, "/"), /is not an executable file/);
  } finally {
    Deno.removeSync(text);
  }
  assert.throws(spawn("/bin/true", "/no/dir"), /its working directory "\/no\/dir" does not exist/);
  assert.throws(spawn("/bin/true", "/bin/true"), /"\/bin\/true" is not a directory/);
  assert.equal(openFds(), before);
});

Deno.test("posixSpawn() readers: cancel ends a pending read while a grandchild holds the pipe", async () => {
  const { c, poller } = spawner();
  const child = posixSpawn(c, poller, {
    path: "/bin/sh",
    argv: ["sh", "-c", "sleep 30 & echo $!"],
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/",
  });
  const buffer = new Uint8Array(64);
  const grandchild = Number(new TextDecoder().decode(await child.stdout.read(buffer)).trim());
  try {
    assert.deepEqual(await child.status, { code: 0 });
    const pending = child.stdout.read(buffer); // the sleep holds the pipe: nothing comes
    await child.stdout.cancel();
    assert.equal(await pending, undefined);
    await child.stderr.cancel();
  } finally {
    Deno.kill(grandchild, "SIGKILL");
  }
});

Deno.test("posixSpawn() children read at once: 20 of them, each one's output its own", async () => {
  const { c, poller } = spawner();
  const children = Array.from({ length: 20 }, (_, i) =>
    posixSpawn(c, poller, {
      path: "/bin/sh",
      argv: ["sh", "-c", `for j in 1 2 3; do echo ${i}-$j; sleep 0.01; done`],
      env: { PATH: "/usr/bin:/bin" },
      cwd: "/",
    }));
  const outputs = await Promise.all(children.map(async (child) => {
    const [text] = await Promise.all([readText(child.stdout), readText(child.stderr)]);
    assert.deepEqual(await child.status, { code: 0 });
    return text;
  }));
  outputs.forEach((text, i) => assert.equal(text, `${i}-1\n${i}-2\n${i}-3\n`));
});
