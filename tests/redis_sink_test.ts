import assert from "node:assert/strict";
import { type Event, type LogEvent, now, type StatusEvent } from "../lib/core/event.ts";
import { RedisSink } from "../lib/pipeline/sinks/redis.ts";
import { freePort, startRedis } from "./_redis.ts";
import {
  assertInOrder,
  lineNumbers,
  log,
  logs,
  options,
  readStream,
  tempDir,
  waitFor,
  writeLines,
} from "./_redis_sink.ts";

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
