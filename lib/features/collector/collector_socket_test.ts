import assert from "node:assert/strict";
import { join } from "node:path";
import { checkTraceFileText } from "../../pipeline/tef/perfetto_rules.ts";
import { writeAll } from "../../pipeline/tef/assemble_trace.ts";
import { privateSocketPath } from "./unix_socket.ts";
import {
  type CollectedEvent,
  type CollectorOptions,
  CollectorServer,
  formatCollectorStats,
} from "./collector_socket.ts";

const encoder = new TextEncoder();
// Under qemu (the aarch64 lane sets WRAPP_TEST_EMULATED) everything is ~40x slower.
const emulated = Deno.env.get("WRAPP_TEST_EMULATED") === "1";

interface Harness {
  server: CollectorServer;
  socket: string;
  dir: string;
  root: string;
  logs: string[];
}

async function withCollector(
  body: (h: Harness) => Promise<void>,
  options: Partial<CollectorOptions> = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "wrapp-collector-test-" });
  const logs: string[] = [];
  const socket = join(root, "c.sock");
  const dir = join(root, "traces");
  const server = await CollectorServer.listen({
    socketPath: socket,
    dir,
    log: (message) => logs.push(message),
    ...options,
  });
  try {
    await body({ server, socket, dir, root, logs });
  } finally {
    await server.stop("test");
    await Deno.remove(root, { recursive: true });
  }
}

/** Connect, send `data`, close. */
async function send(socket: string, data: string | Uint8Array): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await writeAll(
      conn as unknown as Deno.FsFile,
      typeof data === "string" ? encoder.encode(data) : data,
    );
  } finally {
    conn.close();
  }
}

async function until(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + (emulated ? 120_000 : 10_000);
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Wait until `n` connections came and went and every accepted event is on disk. */
async function settle(server: CollectorServer, n: number): Promise<void> {
  await until(() => {
    const s = server.stats();
    return s.connections >= n && s.connected === 0 && s.written + s.dropped === s.events;
  }, `${n} connections to settle`);
}

function slice(pid: number, i: number): string {
  return JSON.stringify({ ph: "X", name: `w${pid}.${i}`, ts: i * 10, dur: 5, pid, tid: pid });
}

async function readLines(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), "file ends with a newline");
  return text.slice(0, -1).split("\n");
}

Deno.test("CollectorServer listens on an owner-only socket and removes it when stopped", async () => {
  await withCollector(async ({ server, socket, dir }) => {
    const info = await Deno.lstat(socket);
    assert.ok(info.isSocket);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    await server.stop("test");
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(privateSocketPath(socket, Deno.pid)), Deno.errors.NotFound);
  });
});

Deno.test("CollectorServer: 20 concurrent clients on one trace, every event once, no interleaving", async () => {
  await withCollector(async ({ server, socket, dir }) => {
    const clients = 20;
    const perClient = emulated ? 100 : 500;
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const conn = await Deno.connect({ transport: "unix", path: socket });
      const file = conn as unknown as Deno.FsFile;
      await writeAll(file, encoder.encode("OPEN shared\n"));
      // Uneven chunks, so lines cross chunk boundaries.
      const body = Array.from({ length: perClient }, (_, i) => slice(1000 + c, i)).join("\n") +
        "\n";
      const bytes = encoder.encode(body);
      for (let at = 0; at < bytes.length; at += 777) {
        await writeAll(file, bytes.subarray(at, at + 777));
      }
      conn.close();
    }));
    await settle(server, clients);
    const lines = await readLines(join(dir, "shared.jsonl"));
    assert.equal(lines.length, clients * perClient);
    const seen = new Set<string>();
    const next = new Map<number, number>();
    for (const line of lines) {
      const event = JSON.parse(line); // throws on an interleaved line
      assert.ok(!seen.has(event.name), `duplicate ${event.name}`);
      seen.add(event.name);
      // Each client's events stay in its own order.
      const expected = next.get(event.pid) ?? 0;
      assert.equal(event.ts, expected * 10);
      next.set(event.pid, expected + 1);
    }
    assert.equal(seen.size, clients * perClient);
    assert.equal(server.stats().events, clients * perClient);
  });
});

Deno.test("CollectorServer refuses trace ids that escape the folder, and their events", async () => {
  await withCollector(async ({ server, socket, root, logs }) => {
    const ids = ["../escaped", "/abs/escaped", "a/b", "..", "x\0y"];
    for (const id of ids) await send(socket, `OPEN ${id}\n${slice(1, 0)}\n`);
    await settle(server, ids.length);
    assert.equal(server.stats().rejected.trace_id, ids.length);
    assert.equal(server.stats().rejected.no_trace, ids.length);
    assert.equal(server.stats().events, 0);
    await assert.rejects(Deno.lstat(join(root, "escaped.jsonl")), Deno.errors.NotFound);
    assert.ok(
      logs.includes(
        'client 1, line 1: refused trace id "../escaped": it starts with "." (no hidden files, "." or "..")',
      ),
      logs.join("\n"),
    );
    assert.ok(
      logs.includes("client 1, line 2: event without a trace: the OPEN on line 1 was refused"),
    );
    assert.ok(logs.some((l) => l.includes('refused trace id "x\\u0000y"')));
  });
});

Deno.test("CollectorServer counts and logs a bad line and keeps the connection", async () => {
  await withCollector(async ({ server, socket, dir, logs }) => {
    const bad = [
      '{"ph":"X","name":',
      '{"name":"no ph"}',
      '{"ph":"X","name":"no dur","ts":1,"pid":1,"tid":1}',
      "HELLO",
    ];
    const overLong = `{"ph":"i","name":"${"x".repeat(300)}","ts":1,"pid":1,"tid":1}`;
    const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]);
    const conn = await Deno.connect({ transport: "unix", path: socket });
    const file = conn as unknown as Deno.FsFile;
    await writeAll(file, encoder.encode(`OPEN t\n${slice(1, 0)}\n${bad.join("\n")}\n`));
    await writeAll(file, invalidUtf8);
    await writeAll(file, encoder.encode(`${overLong}\n${slice(1, 1)}\n`));
    conn.close();
    await settle(server, 1);
    const stats = server.stats();
    assert.deepEqual(
      { ...stats.rejected },
      {
        utf8: 1,
        too_long: 1,
        json: 1,
        not_event: 1,
        perfetto: 1,
        unknown: 1,
        trace_id: 0,
        relative_path: 0,
        no_trace: 0,
        memory: 0,
      },
    );
    assert.deepEqual(await readLines(join(dir, "t.jsonl")), [slice(1, 0), slice(1, 1)]);
    assert.ok(
      logs.some((l) =>
        /^client 1 \(trace "t"\), line 3: not valid JSON \(.*\): \{"ph":"X","name":$/.test(l)
      ),
      logs.join("\n"),
    );
    assert.ok(logs.includes('client 1 (trace "t"), line 7: not valid UTF-8'));
    assert.ok(logs.includes(
      `client 1 (trace "t"), line 8: line of ${overLong.length} bytes is longer than the limit of 256`,
    ));
    assert.ok(
      logs.includes(
        'client 1 (trace "t") disconnected after 9 lines: 2 events accepted, 6 lines rejected',
      ),
    );
    assert.match(
      formatCollectorStats(stats),
      /^1 connection, 2 events written, 6 lines rejected \(utf8 1, too_long 1, json 1/,
    );
  }, { maxLineBytes: 256 });
});

Deno.test("CollectorServer logs the first rejected lines of a client, then only counts", async () => {
  await withCollector(async ({ server, socket, logs }) => {
    await send(socket, "OPEN t\n" + "nope\n".repeat(50));
    await settle(server, 1);
    assert.equal(server.stats().rejected.unknown, 50);
    assert.equal(logs.filter((l) => l.includes("unknown message")).length, 3);
    assert.ok(
      logs.includes('client 1 (trace "t"): further rejected lines are counted, not logged'),
    );
  }, { maxLoggedRejects: 3 });
});

Deno.test("CollectorServer rejects an event before OPEN, for that line only", async () => {
  await withCollector(async ({ server, socket, dir, logs }) => {
    await send(socket, `${slice(1, 0)}\nEMIT_TEF /tmp/x.json\nOPEN t\n${slice(1, 1)}\n`);
    await settle(server, 1);
    assert.equal(server.stats().rejected.no_trace, 2);
    assert.ok(logs.includes('client 1, line 1: event before OPEN: send "OPEN <trace-id>" first'));
    assert.ok(logs.includes("client 1, line 2: EMIT_TEF before OPEN: nothing to write"));
    assert.deepEqual(await readLines(join(dir, "t.jsonl")), [slice(1, 1)]);
  });
});

Deno.test("CollectorServer: EMIT_TEF refuses a relative path and writes an absolute one right away", async () => {
  await withCollector(async ({ server, socket, root, logs }) => {
    const target = join(root, "out", "trace.json");
    await Deno.mkdir(join(root, "out"));
    const meta = JSON.stringify({ ph: "M", name: "process_name", pid: 1, args: { name: "p" } });
    const conn = await Deno.connect({ transport: "unix", path: socket });
    const file = conn as unknown as Deno.FsFile;
    await writeAll(
      file,
      encoder.encode(`OPEN t\n${meta}\n${slice(1, 0)}\nEMIT_TEF trace.json\nEMIT_TEF ${target}\n`),
    );
    // Written while the client is still connected.
    await until(() => Deno.lstat(target).then(() => true, () => false), "trace.json");
    conn.close();
    await settle(server, 1);
    const text = await Deno.readTextFile(target);
    assert.deepEqual(checkTraceFileText(text), []);
    assert.deepEqual(JSON.parse(text).map((e: { ph: string }) => e.ph), ["M", "X"]);
    assert.equal(server.stats().rejected.relative_path, 1);
    assert.ok(
      logs.some((l) => l.includes("EMIT_TEF needs an absolute path") && l.includes('"trace.json"')),
    );
    assert.ok(
      logs.includes(`EMIT_TEF: wrote trace "t" (2 events) to "${target}"`),
      logs.join("\n"),
    );
    await assert.rejects(Deno.lstat(join(Deno.cwd(), "trace.json")), Deno.errors.NotFound);
  });
});

Deno.test("CollectorServer: EMIT_TEF_AT_EXIT writes once the trace's last client has left", async () => {
  await withCollector(async ({ server, socket, root }) => {
    const target = join(root, "at-exit.json");
    const root1 = await Deno.connect({ transport: "unix", path: socket });
    await writeAll(
      root1 as unknown as Deno.FsFile,
      encoder.encode(`OPEN t\nEMIT_TEF_AT_EXIT ${target}\n${slice(1, 0)}\n`),
    );
    await send(socket, `OPEN t\n${slice(2, 0)}\n`);
    await until(
      () => server.stats().connections === 2 && server.stats().connected === 1,
      "child gone",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(Deno.lstat(target), Deno.errors.NotFound); // root still connected
    root1.close();
    await until(() => Deno.lstat(target).then(() => true, () => false), "at-exit trace");
    const text = await Deno.readTextFile(target);
    assert.deepEqual(checkTraceFileText(text), []);
    assert.equal(JSON.parse(text).length, 2);
    assert.equal(server.stats().emitted, 1);
  });
});

Deno.test("CollectorServer: DIE flushes, writes pending EMIT_TEF_AT_EXIT traces and removes the socket", async () => {
  await withCollector(async ({ server, socket, root, dir }) => {
    const target = join(root, "at-die.json");
    const other = await Deno.connect({ transport: "unix", path: socket });
    await writeAll(
      other as unknown as Deno.FsFile,
      encoder.encode(`OPEN t\nEMIT_TEF_AT_EXIT ${target}\n${slice(1, 0)}\n`),
    );
    await until(() => server.stats().events === 1, "event");
    await send(socket, "DIE\n");
    assert.equal(await server.stopped, "DIE");
    other.close();
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound);
    assert.deepEqual(await readLines(join(dir, "t.jsonl")), [slice(1, 0)]);
    assert.deepEqual(checkTraceFileText(await Deno.readTextFile(target)), []);
  });
});

Deno.test("CollectorServer: DIE_WHEN_IDLE stops once no client is connected", async () => {
  await withCollector(async ({ server, socket }) => {
    const busy = await Deno.connect({ transport: "unix", path: socket });
    await writeAll(busy as unknown as Deno.FsFile, encoder.encode("OPEN t\n"));
    await send(socket, "DIE_WHEN_IDLE\n");
    await until(
      () => server.stats().connections === 2 && server.stats().connected === 1,
      "one left",
    );
    let stopped = false;
    server.stopped.then(() => stopped = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(stopped, false);
    busy.close();
    assert.equal(await server.stopped, "DIE_WHEN_IDLE");
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound);
  });
});

Deno.test("CollectorServer hands every accepted event to onEvent with its trace id", async () => {
  const seen: CollectedEvent[] = [];
  await withCollector(async ({ server, socket }) => {
    await send(socket, `OPEN a\n${slice(1, 0)}\nbad\nOPEN b\n${slice(2, 0)}\n`);
    await settle(server, 1);
    assert.deepEqual(seen.map((e) => [e.traceId, e.event.pid, e.text]), [
      ["a", 1, slice(1, 0)],
      ["b", 2, slice(2, 0)],
    ]);
    assert.ok(seen.every((e) => e.time > 0));
  }, { onEvent: (event) => seen.push(event) });
});

Deno.test("CollectorServer: a throwing onEvent is counted, logged once, and writing goes on", async () => {
  await withCollector(async ({ server, socket, dir, logs }) => {
    await send(socket, `OPEN a\n${slice(1, 0)}\n${slice(1, 1)}\n`);
    await settle(server, 1);
    assert.equal(server.stats().callbackErrors, 2);
    assert.equal(logs.filter((l) => l.includes("event callback failed")).length, 1);
    assert.equal((await readLines(join(dir, "a.jsonl"))).length, 2);
  }, {
    onEvent: () => {
      throw new Error("redis down");
    },
  });
});

Deno.test("CollectorServer replaces a stale socket but never a live one or a plain file", async () => {
  const root = await Deno.makeTempDir({ prefix: "wrapp-collector-test-" });
  try {
    const socket = join(root, "c.sock");
    // A stale socket: bound, linked to the public path, then the listener is gone.
    const temp = join(root, "tmp.sock");
    const dead = Deno.listen({ transport: "unix", path: temp });
    await Deno.link(temp, socket);
    dead.close();
    const logs: string[] = [];
    const server = await CollectorServer.listen({
      socketPath: socket,
      dir: join(root, "t"),
      log: (m) => logs.push(m),
    });
    assert.deepEqual(logs, [`Replaced the stale socket "${socket}" left by a collector that died`]);
    await assert.rejects(
      CollectorServer.listen({ socketPath: socket, dir: join(root, "t") }),
      (error: Error) => {
        assert.equal(
          error.message,
          `Cannot listen on "${socket}": another wrapp serve (pid ${Deno.pid}) is running`,
        );
        return true;
      },
    );
    // The first one still works.
    await send(socket, `OPEN t\n${slice(1, 0)}\n`);
    await settle(server, 2);
    assert.equal(server.stats().events, 1);
    await server.stop();

    const plain = join(root, "plain");
    await Deno.writeTextFile(plain, "keep me");
    await assert.rejects(
      CollectorServer.listen({ socketPath: plain, dir: join(root, "t") }),
      /Cannot listen on ".*plain": it exists and is not a socket; remove it or choose another --socket/,
    );
    assert.equal(await Deno.readTextFile(plain), "keep me");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("CollectorServer names a foreign process listening on the socket", async () => {
  const root = await Deno.makeTempDir({ prefix: "wrapp-collector-test-" });
  const socket = join(root, "c.sock");
  const foreign = Deno.listen({ transport: "unix", path: socket });
  try {
    await assert.rejects(
      CollectorServer.listen({ socketPath: socket, dir: join(root, "t") }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^Cannot listen on ".*c\\.sock": another process \\(pid ${Deno.pid}, ".*"\\) is listening on it$`,
          ),
        );
        return true;
      },
    );
  } finally {
    foreign.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("CollectorServer refuses an unwritable trace folder with a SinkError", async () => {
  const root = await Deno.makeTempDir({ prefix: "wrapp-collector-test-" });
  try {
    await Deno.writeTextFile(join(root, "file"), "");
    await assert.rejects(
      CollectorServer.listen({ socketPath: join(root, "c.sock"), dir: join(root, "file", "sub") }),
      (error: Error) => {
        assert.equal(error.name, "SinkError");
        assert.match(error.message, /^Cannot write traces to ".*file\/sub": /);
        return true;
      },
    );
    // Nothing was left listening.
    await assert.rejects(Deno.lstat(join(root, "c.sock")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("CollectorServer.stop() keeps what connected clients already sent, then hangs up", async () => {
  await withCollector(async ({ server, socket, dir, logs }) => {
    const conn = await Deno.connect({ transport: "unix", path: socket });
    const file = conn as unknown as Deno.FsFile;
    await writeAll(file, encoder.encode("OPEN t\n"));
    await until(() => server.stats().connected === 1, "connected");
    const events = Array.from({ length: 1000 }, (_, i) => slice(1, i));
    // The bytes are in the socket buffer, unread, when stop() starts; a cut last line too.
    await writeAll(file, encoder.encode(events.join("\n") + '\n{"ph":"i"'));
    assert.equal(await server.stop("SIGTERM"), "SIGTERM");
    conn.close();
    assert.deepEqual(await readLines(join(dir, "t.jsonl")), events);
    assert.ok(
      logs.includes('client 1 (trace "t"): dropped an unfinished line of 9 bytes at stop'),
      logs.join("\n"),
    );
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound);
  });
});

Deno.test("CollectorServer bounds unfinished lines across connections: past maxPendingBytes the largest is cut, counted and logged", async () => {
  await withCollector(async ({ server, socket, dir, logs }) => {
    const conns: Deno.UnixConn[] = [];
    // One after the other, so they are clients 1, 2 and 3.
    for (let i = 1; i <= 3; i++) {
      conns.push(await Deno.connect({ transport: "unix", path: socket }));
      await until(() => server.stats().connections === i, `client ${i}`);
    }
    const write = (i: number, text: string) =>
      writeAll(conns[i] as unknown as Deno.FsFile, encoder.encode(text));
    await write(0, `OPEN a\n${slice(1, 0)}\n` + "x".repeat(300));
    await until(() => server.stats().pendingBytes === 300, "300 bytes held");
    await write(1, "OPEN b\n" + "y".repeat(500));
    await until(() => server.stats().pendingBytes === 800, "800 bytes held");
    assert.equal(server.stats().cut, 0);
    // 800 + 400 > 1000: the largest (client 2, 500 bytes) is cut.
    await write(2, "OPEN c\n" + "z".repeat(400));
    await until(() => server.stats().cut === 1, "a cut");
    assert.equal(server.stats().pendingBytes, 700);
    assert.ok(
      logs.includes(
        'client 2 (trace "b"): cut its unfinished line after 500 bytes (the rest is skipped): the unfinished lines of all connections held more than 1000 bytes, this one the most',
      ),
      logs.join("\n"),
    );
    // The rest of the cut line is skipped; the next line of that client counts again.
    await write(1, "y".repeat(2000) + `\n${slice(2, 0)}\n`);
    // Client 1 finishes its line: it is kept whole.
    await write(0, `x\n`);
    for (const conn of conns) conn.close();
    await settle(server, 3);
    const stats = server.stats();
    assert.equal(stats.pendingBytes, 0);
    assert.equal(stats.rejected.memory, 1);
    assert.equal(stats.rejected.unknown, 2); // "xxx…x" and "zzz…z" were kept whole (and are no command)
    assert.deepEqual(await readLines(join(dir, "b.jsonl")), [slice(2, 0)]);
    assert.match(formatCollectorStats(stats), /, 1 unfinished line cut to bound memory$/);
  }, { maxLineBytes: 4096, maxPendingBytes: 1000 });
});
