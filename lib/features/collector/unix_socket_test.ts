import assert from "node:assert/strict";
import { join } from "node:path";
import {
  describeOwner,
  findSocketOwner,
  listenExclusive,
  privateSocketPath,
  probeSocket,
} from "./unix_socket.ts";

Deno.test("privateSocketPath() puts .<name>.<pid> beside the socket", () => {
  assert.equal(privateSocketPath("/tmp/tldrs.socket", 42), "/tmp/.tldrs.socket.42");
});

Deno.test("describeOwner() names wrapp, another program, or nobody", () => {
  assert.equal(
    describeOwner({ pid: 7, wrapp: true, command: "deno run main.ts serve" }),
    "another wrapp serve (pid 7) is running",
  );
  assert.equal(
    describeOwner({ pid: 8, wrapp: false, command: "tldrs serve" }),
    'another process (pid 8, "tldrs serve") is listening on it',
  );
  assert.equal(describeOwner(undefined), "another process is listening on it");
});

Deno.test("probeSocket() tells live, stale and missing sockets apart; findSocketOwner() finds the pid", async () => {
  const root = await Deno.makeTempDir({ prefix: "wrapp-socket-test-" });
  try {
    const path = join(root, "s.sock");
    assert.equal(await probeSocket(path), "gone");
    const taken = await listenExclusive(path);
    assert.equal(await probeSocket(path), "live");
    assert.deepEqual(await findSocketOwner(path), {
      pid: Deno.pid,
      wrapp: true,
      command: (await Deno.readTextFile(`/proc/${Deno.pid}/cmdline`)).split("\0")
        .filter((p) => p).join(" "),
    });
    // Make it stale: the file stays, the listener goes.
    await Deno.link(path, join(root, "copy.sock"));
    taken.release();
    assert.equal(await probeSocket(join(root, "copy.sock")), "stale");
    taken.release(); // idempotent
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("listenExclusive() refuses a path longer than a unix socket allows", async () => {
  const path = `/tmp/${"x".repeat(110)}.sock`;
  await assert.rejects(
    listenExclusive(path),
    new RegExp(
      `^WrappError: Cannot listen on "${path}": the path is 120 bytes long, and a unix socket path can have at most 107$`,
    ),
  );
});
