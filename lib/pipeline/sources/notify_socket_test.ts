import assert from "node:assert/strict";
import { MAX_SOCKET_PATH_BYTES, NotifySocket } from "./notify_socket.ts";
import type { NotifyMessage } from "./notify_message.ts";

type _Conn = {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
};

/** A datagram client bound in `dir`, as a service's sd_notify() would send. */
function _client(dir: string): _Conn {
  const listen = (Deno as unknown as {
    listenDatagram(options: { transport: "unixpacket"; path: string }): _Conn;
  }).listenDatagram;
  return listen.call(Deno, { transport: "unixpacket", path: `${dir}/client.sock` });
}

Deno.test("NotifySocket reads every datagram sent to NOTIFY_SOCKET, parsed", async () => {
  const dir = await Deno.makeTempDir();
  const messages: NotifyMessage[] = [];
  let arrived: () => void = () => {};
  const socket = await NotifySocket.open(`${dir}/run/notify.sock`, {
    onMessage: (message) => {
      messages.push(message);
      if (messages.length === 2) arrived();
    },
  });
  const client = _client(dir);
  try {
    const both = new Promise<void>((resolve) => arrived = resolve);
    const address = { transport: "unixpacket" as const, path: socket.path };
    await client.send(new TextEncoder().encode("READY=1\nSTATUS=warming up"), address);
    await client.send(new TextEncoder().encode("WATCHDOG=1"), address);
    await both;
    assert.equal(messages[0].ready, true);
    assert.equal(messages[0].status, "warming up");
    assert.equal(messages[1].watchdog, "ping");
    assert.equal(socket.received, 2);
    assert.equal((await Deno.stat(socket.path)).mode! & 0o777, 0o600);
  } finally {
    client.close();
    await socket.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NotifySocket replaces a socket left behind, and removes its own at close", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await NotifySocket.open(`${dir}/notify.sock`, { onMessage: () => {} });
    // As if wrapp had been killed: the file stays, nobody reads it.
    const second = await NotifySocket.open(`${dir}/notify.sock`, { onMessage: () => {} });
    await first.close().catch(() => {});
    await second.close();
    await assert.rejects(Deno.lstat(`${dir}/notify.sock`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NotifySocket refuses a regular file in its place and a path too long", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notify.sock`, "data");
    await assert.rejects(
      NotifySocket.open(`${dir}/notify.sock`, { onMessage: () => {} }),
      /Cannot create the notify socket ".*notify\.sock": a file that is not a socket is in the way/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/notify.sock`), "data");
    const long = `${dir}/${"x".repeat(MAX_SOCKET_PATH_BYTES)}.sock`;
    await assert.rejects(
      NotifySocket.open(long, { onMessage: () => {} }),
      /longer than the 107 bytes a socket may have/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
