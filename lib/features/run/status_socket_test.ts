import assert from "node:assert/strict";
import { serveStatus, StatusSocket } from "./status_socket.ts";
import type { WrappSnapshot } from "./service_snapshot.ts";

const SNAPSHOT: WrappSnapshot = {
  wrapp: { pid: Deno.pid, version: "test", startedAt: 1 },
  time: 2,
  services: [{ name: "svc", config: "svc.toml", state: "running", pid: 7, restarts: 0, lines: 3 }],
};

async function ask(path: string, query: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(query));
    let text = "";
    const buffer = new Uint8Array(4096);
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("StatusSocket answers one JSON line per query, owner-only, and removes its socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const socket = StatusSocket.open(`${dir}/run`, () => SNAPSHOT);
    assert.equal(socket.path, `${dir}/run/${Deno.pid}.sock`);
    assert.equal((await Deno.stat(socket.path)).mode! & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await ask(socket.path, '{"query":"ps"}\n')), SNAPSHOT);
    assert.match(
      await ask(socket.path, '{"query":"kill"}\n'),
      /^\{"error":"Unknown query \\"kill\\"/,
    );
    assert.match(await ask(socket.path, "ps\n"), /^\{"error":"Invalid query/);
    await socket.close();
    await assert.rejects(Deno.lstat(socket.path), Deno.errors.NotFound);
    await socket.close(); // idempotent
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StatusSocket replaces a socket file left by a dead wrapp with the same pid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/${Deno.pid}.sock`, "left over");
    const socket = StatusSocket.open(dir, () => SNAPSHOT);
    assert.equal(JSON.parse(await ask(socket.path, '{"query":"ps"}\n')).time, 2);
    await socket.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StatusSocket.open() says why it cannot listen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    assert.throws(
      () => StatusSocket.open(`${dir}/file/run`, () => SNAPSHOT),
      (error: Error) => error.message.startsWith(`Cannot listen on "${dir}/file/run/`),
    );
    assert.throws(
      () => StatusSocket.open(`${dir}/${"x".repeat(120)}`, () => SNAPSHOT),
      /a unix socket path can have at most 107/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveStatus() answers while the run lasts, without a socket when it cannot listen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = (name: string) => name === "WRAPP_RUNTIME_DIR" ? dir : undefined;
    const supervisor = { snapshot: () => SNAPSHOT.services[0] };
    const path = `${dir}/${Deno.pid}.sock`;
    const answer = await serveStatus([supervisor], async () => {
      const reply = JSON.parse(await ask(path, '{"query":"ps"}\n')) as WrappSnapshot;
      assert.equal(reply.wrapp.pid, Deno.pid);
      return reply.services;
    }, { env });
    assert.deepEqual(answer, SNAPSHOT.services);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    const blocked = (name: string) => name === "WRAPP_RUNTIME_DIR" ? "/proc/1/nope" : undefined;
    assert.equal(await serveStatus([supervisor], () => Promise.resolve(42), { env: blocked }), 42);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
