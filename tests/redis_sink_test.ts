import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { type Event, type LogEvent, now, type StatusEvent } from "../lib/core/event.ts";
import { RedisSink, type RedisSinkOptions } from "../lib/pipeline/sinks/redis.ts";
import { freePort, type RedisServer, startRedis } from "./_redis.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A temporary folder removed when disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "wrapp-redis-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function options(port: number, extra: Partial<RedisSinkOptions> = {}): RedisSinkOptions {
  return {
    host: "127.0.0.1",
    port,
    streamName: "svc",
    runId: "run-1",
    hostname: "testhost",
    pid: () => 4242,
    ...extra,
  };
}

function log(i: number, stream: LogEvent["stream"] = "stdout"): LogEvent {
  return { kind: "log", stream, text: `line ${i}`, time: now() };
}

function logs(from: number, to: number): LogEvent[] {
  return Array.from({ length: to - from }, (_, i) => log(from + i));
}

/** Write `count` log events numbered from `from`, in router-sized batches. */
function writeLines(sink: RedisSink, from: number, count: number, batch = 4096): void {
  for (let i = from; i < from + count; i += batch) {
    sink.write(logs(i, Math.min(i + batch, from + count)));
  }
}

/** Every entry of a stream as field maps, oldest first, read in pages. */
async function readStream(client: Redis, key: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  let start = "-";
  for (;;) {
    const page = await client.xrange(key, start, "+", "COUNT", 10_000);
    for (const [, fields] of page) {
      const entry: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
      out.push(entry);
    }
    if (page.length < 10_000) return out;
    start = `(${page[page.length - 1][0]}`;
  }
}

/** The numbers of `line N` messages, in stream order. */
async function lineNumbers(redis: RedisServer, key = "logs:app:svc:info"): Promise<number[]> {
  const client = await redis.client(1);
  return (await readStream(client, key)).map((entry) => Number(entry.message.replace("line ", "")));
}

/** Assert `seen` is 0..count-1 in order, allowing only re-sent runs (at-least-once). Returns the duplicates. */
function assertInOrder(seen: number[], count: number): number {
  const first: number[] = [];
  const had = new Set<number>();
  for (const n of seen) {
    if (had.has(n)) continue;
    had.add(n);
    first.push(n);
  }
  assert.equal(first.length, count, `expected ${count} distinct lines, got ${first.length}`);
  for (let i = 0; i < count; i++) {
    if (first[i] !== i) assert.fail(`line ${i} out of order: got ${first[i]} at position ${i}`);
  }
  return seen.length - first.length;
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("RedisSink writes stdout, stderr and status entries to their streams in DB 1 with every field", async () => {
  await using redis = await startRedis();
  const sink = await RedisSink.connect(options(redis.port));
  const events: Event[] = [
    {
      kind: "status",
      phase: "info",
      message: "hello",
      fields: { run: "run-0", pid: 77, restarts: 2, ok: true },
      time: 1_700_000_000_123.7,
    },
    { kind: "log", stream: "stdout", text: "out ü", time: 1_700_000_000_200.2 },
    {
      kind: "log",
      stream: "stderr",
      text: "err",
      time: 1_700_000_000_201,
      split: { part: 2, last: true },
    },
    {
      kind: "log",
      stream: "stdout",
      text: "a\nb",
      time: 1_700_000_000_202,
      lines: 2,
      unterminated: "time",
    },
  ];
  sink.write(events);
  await sink.close();

  const logsDb = await redis.client(1);
  assert.deepEqual((await logsDb.keys("*")).sort(), [
    "logs:app:svc:error",
    "logs:app:svc:info",
    "logs:app:svc:status",
  ]);
  const base = { run: "run-1", pid: "4242", host: "testhost" };
  assert.deepEqual(await readStream(logsDb, "logs:app:svc:info"), [
    { message: "out ü", ts: "1700000000200", ...base, seq: "2" },
    {
      message: "a\nb",
      ts: "1700000000202",
      ...base,
      seq: "4",
      lines: "2",
      unterminated: "time",
    },
  ]);
  assert.deepEqual(await readStream(logsDb, "logs:app:svc:error"), [
    { message: "err", ts: "1700000000201", ...base, seq: "3", part: "2", last: "true" },
  ]);
  assert.deepEqual(await readStream(logsDb, "logs:app:svc:status"), [
    {
      message: "hello",
      ts: "1700000000123",
      run: "run-0",
      pid: "77",
      host: "testhost",
      seq: "1",
      phase: "info",
      restarts: "2",
      ok: "true",
    },
  ]);
  // Nothing in the default DB.
  assert.deepEqual(await (await redis.client(0)).keys("*"), []);
});

Deno.test("RedisSink trims each stream to about maxLen entries", async () => {
  await using redis = await startRedis();
  const sink = await RedisSink.connect(options(redis.port, { maxLen: 100 }));
  writeLines(sink, 0, 5000, 250);
  await sink.close();
  const client = await redis.client(1);
  const length = await client.xlen("logs:app:svc:info");
  // "~" trims whole macro nodes (100 entries by default): never below maxLen, at most a node above.
  assert.ok(length >= 100 && length <= 200, `XLEN is ${length}`);
  const numbers = await lineNumbers(redis);
  assert.equal(numbers[numbers.length - 1], 4999);
});

Deno.test("RedisSink increments and sets marker values in DB 2", async () => {
  await using redis = await startRedis();
  const sink = await RedisSink.connect(options(redis.port));
  const metric = (name: string, op: "incr" | "set", value: string): Event => ({
    kind: "metric",
    name,
    op,
    value,
    stream: "stdout",
    time: now(),
  });
  sink.write([
    metric("requests", "incr", "1"),
    metric("requests", "incr", "1"),
    metric("temp", "set", "41.5"),
  ]);
  sink.write([metric("requests", "incr", "1"), metric("temp", "set", "42")]);
  await sink.close();
  const values = await redis.client(2);
  assert.equal(await values.get("wrapp:svc:requests"), "3");
  assert.equal(await values.get("wrapp:svc:temp"), "42");
  assert.deepEqual(await (await redis.client(1)).keys("*"), []);
});

Deno.test("RedisSink keeps the state hash in DB 5 on start and exit", async () => {
  await using redis = await startRedis();
  const sink = await RedisSink.connect(options(redis.port, { version: "9.9.9" }));
  const status = (phase: StatusEvent["phase"], fields: StatusEvent["fields"]): StatusEvent => ({
    kind: "status",
    phase,
    message: phase,
    fields,
    time: 1_700_000_000_000,
  });
  const state = await redis.client(5);
  sink.write([status("start", { run: "run-1", pid: 1234 })]);
  await sink.flush();
  assert.deepEqual(await state.hgetall("wrapp:svc:state"), {
    pid: "1234",
    run: "run-1",
    status: "running",
    version: "9.9.9",
    host: "testhost",
    heartbeat: "1700000000000",
    started: "1700000000000",
  });
  sink.write([status("info", { note: "x" }), status("restart", { restarts: 1 })]);
  await sink.flush();
  const restarting = await state.hgetall("wrapp:svc:state");
  assert.equal(restarting.status, "restarting");
  assert.equal(restarting.restarts, "1");
  sink.write([status("exit", { run: "run-1", pid: 1234, exit_code: 3 })]);
  await sink.close();
  const hash = await state.hgetall("wrapp:svc:state");
  assert.equal(hash.status, "exited");
  assert.equal(hash.exit_code, "3");
});

Deno.test("RedisSink writes a heartbeat into the state hash on each health tick", async () => {
  await using redis = await startRedis();
  const sink = await RedisSink.connect(options(redis.port, { healthIntervalMs: 50 }));
  const state = await redis.client(5);
  await waitFor(
    async () => (await state.hget("wrapp:svc:state", "heartbeat")) !== null,
    "a heartbeat",
  );
  assert.equal(await state.hget("wrapp:svc:state", "pid"), "4242");
  assert.equal(await sink.healthCheck(), undefined);
  await sink.close();
});

Deno.test("RedisSink delivers 200000 events in order", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const sink = await RedisSink.connect(
    options(redis.port, { maxLen: 1_000_000, spoolDir: `${dir.path}/spool` }),
  );
  writeLines(sink, 0, 200_000);
  await sink.close();
  const stats = sink.stats();
  assert.equal(stats.dropped, 0);
  assert.equal(stats.sent, 200_000);
  assert.equal(stats.spooled, 0);
  assert.equal(assertInOrder(await lineNumbers(redis), 200_000), 0);
});

Deno.test("RedisSink loses nothing when Redis is killed mid-stream and restarted on the same port", async () => {
  await using redis = await startRedis({ persistent: true });
  await using dir = await tempDir();
  const statuses: StatusEvent[] = [];
  const sink = await RedisSink.connect(options(redis.port, {
    maxLen: 1_000_000,
    spoolDir: `${dir.path}/spool`,
    memoryQueueEvents: 2000,
    onStatus: (event) => statuses.push(event),
  }));
  const total = 30_000;
  for (let i = 0; i < total; i += 300) {
    if (i === 9000) {
      // A burst, then the kill while its pipelines are in flight.
      writeLines(sink, 9000, 6000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await redis.stop();
      i = 15_000;
    }
    if (i === 21_000) await redis.restart();
    writeLines(sink, i, 300);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await waitFor(() => sink.stats().spooled === 0 && sink.stats().connected, "the spool to drain");
  await sink.close();
  const stats = sink.stats();
  assert.equal(stats.dropped, 0);
  const duplicates = assertInOrder(await lineNumbers(redis), total);
  assert.ok(duplicates <= 2000, `${duplicates} duplicates`);
  assert.match(
    statuses[0].message,
    /^Redis at "127\.0\.0\.1:\d+" is unreachable: .+; events wait in spool ".+"$/,
  );
  assert.match(
    statuses[1].message,
    /^Redis at "127\.0\.0\.1:\d+" was unreachable for \d+\.\ds; \d+ events waited$/,
  );
  assert.ok(Number(statuses[1].fields.queued) > 0);
  const messages = (await readStream(await redis.client(1), "logs:app:svc:status")).map((entry) =>
    entry.message
  );
  assert.deepEqual(messages, statuses.map((event) => event.message));
});

Deno.test("RedisSink gives up on a hung Redis after commandTimeoutMs and delivers once it answers", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const sink = await RedisSink.connect(options(redis.port, {
    spoolDir: `${dir.path}/spool`,
    commandTimeoutMs: 300,
    maxLen: 100_000,
  }));
  writeLines(sink, 0, 1000);
  await sink.flush();
  redis.pause();
  writeLines(sink, 1000, 1000);
  await waitFor(() => !sink.stats().connected, "the sink to give up");
  assert.equal(
    await sink.healthCheck(),
    `Cannot connect to Redis at "127.0.0.1:${redis.port}": no reply within 300 ms`,
  );
  assert.equal((await sink.flushWithin(1000)).complete, true); // safe in the spool
  redis.resume();
  await waitFor(() => sink.stats().spooled === 0 && sink.stats().connected, "delivery");
  await sink.close();
  assert.equal(sink.stats().dropped, 0);
  assertInOrder(await lineNumbers(redis), 2000);
});

Deno.test("RedisSink started while Redis is down spools, then delivers when Redis comes up", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const sink = await RedisSink.connect(
    options(port, { spoolDir: `${dir.path}/spool`, maxLen: 100_000 }),
  );
  assert.equal(
    await sink.healthCheck(),
    `Cannot connect to Redis at "127.0.0.1:${port}": connection refused`,
  );
  writeLines(sink, 0, 5000, 500);
  const report = await sink.flushWithin(5000);
  assert.deepEqual(report, { complete: true, waiting: 5001, spooled: 5001 }); // + the "unreachable" entry
  await using redis = await startRedis({ port });
  await waitFor(
    () => sink.stats().spooled === 0 && sink.stats().connected,
    "delivery after Redis came up",
  );
  assert.equal(await sink.healthCheck(), undefined);
  await sink.close();
  assertInOrder(await lineNumbers(redis), 5000);
  const status = await readStream(await redis.client(1), "logs:app:svc:status");
  assert.equal(status.length, 2);
  assert.equal(status[1].phase, "warning");
  assert.equal(status[1].queued, "5001");
});

Deno.test("RedisSink in the go layout: lines it writes nothing for count as sent, and flush() returns", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const sink = await RedisSink.connect(
    options(port, { spoolDir: `${dir.path}/spool`, maxLen: 100_000, layout: "go" }),
  );
  // 3000 lines, every third one left empty by the go layout; through the spool, then Redis.
  const lines = (from: number, to: number): LogEvent[] =>
    logs(from, to).map((event, i) =>
      (from + i) % 3 === 2 ? { ...event, text: i % 2 ? "  {{skip}} " : "" } : event
    );
  sink.write(lines(0, 1500));
  assert.equal((await sink.flushWithin(5000)).complete, true);
  await using redis = await startRedis({ port });
  await waitFor(() => sink.stats().spooled === 0 && sink.stats().connected, "the spool to drain");
  sink.write(lines(1500, 3000));
  sink.write(lines(0, 3).map((event) => ({ ...event, text: "   " }))); // a batch of nothing
  await sink.flush();
  const stats = sink.stats();
  assert.equal(stats.received, 3003 + 2, JSON.stringify(stats)); // + the outage's two entries
  assert.equal(stats.sent, stats.received);
  assert.equal(stats.dropped, 0);
  await sink.close();
  const expected = Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 3 !== 2);
  assert.deepEqual(await lineNumbers(redis), expected);
});

Deno.test("RedisSink.close() leaves undelivered events in the spool for the next start", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const first = await RedisSink.connect(options(port, { spoolDir: `${dir.path}/spool` }));
  writeLines(first, 0, 1000);
  await first.close();
  assert.equal(first.stats().spooled, 1001);

  await using redis = await startRedis({ port });
  const second = await RedisSink.connect(
    options(port, { spoolDir: `${dir.path}/spool`, runId: "run-2" }),
  );
  await second.flush();
  assert.equal(second.stats().recovered, 1001);
  await second.close();
  assertInOrder(await lineNumbers(redis), 1000);
});

Deno.test("RedisSink replays the spool of a wrapp killed with SIGKILL, skipping a half-written line", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const spoolDir = `${dir.path}/spool`;
  const script = `${dir.path}/writer.ts`;
  await Deno.writeTextFile(
    script,
    `import { RedisSink } from ${
      JSON.stringify(new URL("../lib/pipeline/sinks/redis.ts", import.meta.url).href)
    };
const sink = await RedisSink.connect({ host: "127.0.0.1", port: ${port}, streamName: "svc", runId: "run-killed",
  hostname: "h", pid: () => 999, spoolDir: ${JSON.stringify(spoolDir)} });
for (let i = 0; i < 20000; i += 1000) {
  sink.write(Array.from({ length: 1000 }, (_, k) => ({ kind: "log", stream: "stdout", text: "line " + (i + k), time: Date.now() })));
}
await new Promise((resolve) => setTimeout(resolve, 700)); // past one fsync period
console.log("spooled", sink.stats().spooled);
await new Promise(() => {});
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", `${ROOT}deno.json`, script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    said += value;
  }
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
  assert.equal(said.trim(), "spooled 20001");
  // As if it died in the middle of a write.
  const segments = [...Deno.readDirSync(spoolDir)].map((entry) => entry.name).filter((n) =>
    n.endsWith(".jsonl")
  ).sort();
  await Deno.writeTextFile(
    `${spoolDir}/${segments[segments.length - 1]}`,
    '{"run":"run-killed","pid":999,"ev',
    {
      append: true,
    },
  );

  await using redis = await startRedis({ port });
  const sink = await RedisSink.connect(
    options(port, { spoolDir, maxLen: 100_000, runId: "run-2" }),
  );
  await sink.flush();
  const stats = sink.stats();
  await sink.close();
  assert.equal(stats.recovered, 20002); // 20000 lines, the "unreachable" entry, the half line
  assert.equal(stats.dropped, 1);
  const entries = await readStream(await redis.client(1), "logs:app:svc:info");
  assertInOrder(entries.map((entry) => Number(entry.message.replace("line ", ""))), 20000);
  assert.ok(entries.every((entry) => entry.run === "run-killed" && entry.pid === "999"));
  const status = await readStream(await redis.client(1), "logs:app:svc:status");
  assert.ok(
    status.some((entry) =>
      /^Replaying 20001 events left in spool ".+" by a previous run; 1 partially written line skipped$/
        .test(entry.message)
    ),
    JSON.stringify(status),
  );
});

Deno.test("RedisSink explains a wrong password without ever showing it", async () => {
  const password = "hunter2-Sup3r-secret";
  await using redis = await startRedis({ password: "the-right-one" });
  await using dir = await tempDir();
  const lines: string[] = [];
  const statuses: StatusEvent[] = [];
  const sink = await RedisSink.connect(options(redis.port, {
    password,
    spoolDir: `${dir.path}/spool`,
    debug: (line) => lines.push(line),
    onStatus: (event) => statuses.push(event),
  }));
  const health = await sink.healthCheck();
  assert.equal(
    health,
    `Cannot connect to Redis at "127.0.0.1:${redis.port}": wrong username or password (WRONGPASS)`,
  );
  writeLines(sink, 0, 10);
  await sink.close();
  assert.equal(sink.stats().spooled, 11);
  const everything = [health, ...lines, ...statuses.map((event) => JSON.stringify(event))].join(
    "\n",
  );
  assert.ok(lines.length > 0);
  assert.ok(!everything.includes(password), everything);
  for await (const entry of Deno.readDir(`${dir.path}/spool`)) {
    assert.ok(!(await Deno.readTextFile(`${dir.path}/spool/${entry.name}`)).includes(password));
  }
});

Deno.test("RedisSink authenticates with the right password", async () => {
  await using redis = await startRedis({ password: "the-right-one" });
  const sink = await RedisSink.connect(options(redis.port, { password: "the-right-one" }));
  writeLines(sink, 0, 10);
  assert.equal(await sink.healthCheck(), undefined);
  await sink.close();
  assertInOrder(await lineNumbers(redis), 10);
});

Deno.test("RedisSink with a full spool drops the oldest events and counts every one", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const statuses: StatusEvent[] = [];
  const sink = await RedisSink.connect(options(port, {
    spoolDir: `${dir.path}/spool`,
    spoolMaxBytes: 64 * 1024,
    maxLen: 100_000,
    onStatus: (event) => statuses.push(event),
  }));
  writeLines(sink, 0, 10_000, 100);
  const dropped = sink.stats().dropped;
  assert.ok(dropped > 5000, `dropped ${dropped}`);
  assert.ok(sink.stats().spoolBytes <= 64 * 1024);
  assert.ok(
    statuses.some((event) =>
      /^Redis sink dropped the \d+ oldest waiting events: spool ".+" is full \(65536 bytes\)$/.test(
        event.message,
      )
    ),
  );

  await using redis = await startRedis({ port });
  await waitFor(() => sink.stats().spooled === 0 && sink.stats().connected, "delivery");
  await sink.close();
  const stats = sink.stats();
  assert.equal(stats.sent + stats.dropped, stats.received);
  const numbers = await lineNumbers(redis);
  // What is left is the newest lines, in order.
  assert.deepEqual(
    numbers,
    Array.from({ length: numbers.length }, (_, i) => 10_000 - numbers.length + i),
  );
  const recovery = statuses.find((event) => event.message.includes("was unreachable"));
  assert.ok(recovery && Number(recovery.fields.dropped) > 0);
});

Deno.test("RedisSink with policy block drops nothing and holds waitForCapacity() until Redis drains it", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const sink = await RedisSink.connect(options(port, {
    spoolDir: `${dir.path}/spool`,
    spoolMaxBytes: 64 * 1024,
    maxLen: 100_000,
    policy: "block",
  }));
  writeLines(sink, 0, 5000, 100);
  assert.equal(sink.hasCapacity, false);
  let released = false;
  const waiting = sink.waitForCapacity().then(() => released = true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(released, false);
  await using redis = await startRedis({ port });
  await waiting;
  await waitFor(() => sink.stats().spooled === 0 && sink.stats().connected, "delivery");
  await sink.close();
  assert.equal(sink.stats().dropped, 0);
  assertInOrder(await lineNumbers(redis), 5000);
});

Deno.test("RedisSink without a spool keeps the newest memoryQueueEvents while Redis is down", async () => {
  const port = freePort();
  const sink = await RedisSink.connect(options(port, { memoryQueueEvents: 1000, maxLen: 100_000 }));
  writeLines(sink, 0, 3000, 100);
  // 1000 lines, and the drop report, which waits apart: newer lines never push it out.
  assert.equal(sink.stats().queued, 1001);
  await using redis = await startRedis({ port });
  await waitFor(() => sink.stats().queued === 0 && sink.stats().connected, "delivery");
  await sink.close();
  const numbers = await lineNumbers(redis);
  assert.deepEqual(numbers, Array.from({ length: 1000 }, (_, i) => 2000 + i));
  // 2000 lines and the "unreachable" entry, pushed out by newer lines.
  assert.equal(sink.stats().dropped, 2001);
  const reports = (await (await redis.client(1)).xrange("logs:app:svc:status", "-", "+"))
    .map(([, fields]) => fields).filter((fields) => fields.includes("dropped_total"));
  // The first report, and the rest reported when Redis came back: together all 2001.
  const total = reports.at(-1)![reports.at(-1)!.indexOf("dropped_total") + 1];
  assert.equal(total, "2001");
});

Deno.test("RedisSink counts an entry Redis rejects for good, and goes on with the rest", async () => {
  await using redis = await startRedis();
  await (await redis.client(1)).set("logs:app:svc:error", "not a stream");
  const statuses: StatusEvent[] = [];
  const sink = await RedisSink.connect(
    options(redis.port, { onStatus: (event) => statuses.push(event) }),
  );
  sink.write([log(0), log(1, "stderr"), log(2)]);
  await sink.close();
  assert.deepEqual(await lineNumbers(redis), [0, 2]);
  const stats = sink.stats();
  assert.equal(stats.dropped, 1);
  assert.equal(stats.errors, 1);
  assert.match(statuses[0].message, /^Redis at "127\.0\.0\.1:\d+" rejected an entry: WRONGTYPE/);
});

Deno.test("RedisSink skips a spooled line it cannot encode, counts it, and sends the rest", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/spool`);
  const good = (n: number) => JSON.stringify({ run: "old", pid: 1, event: log(n) });
  await Deno.writeTextFile(
    `${dir.path}/spool/0000001000000000.jsonl`,
    [good(0), '{"run":"old","pid":1,"event":{"kind":"from-the-future"}}', good(1), ""].join("\n"),
  );
  const sink = await RedisSink.connect(options(redis.port, { spoolDir: `${dir.path}/spool` }));
  await sink.flush();
  await sink.close();
  assert.deepEqual(await lineNumbers(redis), [0, 1]);
  assert.equal(sink.stats().dropped, 1);
  assert.equal(sink.stats().errors, 1);
});

Deno.test("RedisSink.connect() rejects bad options with a precise message", async () => {
  await assert.rejects(RedisSink.connect(options(0)), {
    name: "RangeError",
    message: 'Invalid Redis port "0": must be an integer from 1 to 65535',
  });
  await assert.rejects(RedisSink.connect(options(6379, { policy: "wait" as "block" })), {
    name: "RangeError",
    message: 'Invalid Redis sink policy "wait": must be "drop_oldest" or "block"',
  });
});
