import assert from "node:assert/strict";
import { join } from "node:path";
import type { RedisConfig } from "../core/config/config.ts";
import { UsageError } from "../core/errors.ts";
import { now, type StatusEvent } from "../core/event.ts";
import { MemorySink } from "./sinks/memory.ts";
import { openPipeline, redisSinkOptionsFromConfig } from "./open_pipeline.ts";

function _status(message: string): StatusEvent {
  return { kind: "status", phase: "info", message, fields: {}, time: now() };
}

function _redisConfig(port: number, spoolDir: string): RedisConfig {
  return {
    host: "127.0.0.1",
    port,
    tls: false,
    dbLogs: 1,
    dbValues: 2,
    dbState: 5,
    maxLen: 1000,
    healthIntervalMs: 60_000,
    memoryQueue: 100,
    spoolDir,
    spoolMaxBytes: 1 << 20,
    policy: "drop_oldest",
    layout: "go",
    replicasAck: 0,
    replicasAckTimeoutMs: 1000,
  };
}

/** A port nobody listens on right now. */
function _closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("openPipeline with only extra sinks routes to them and opens nothing else", async () => {
  const memory = new MemorySink();
  const notices: string[] = [];
  const pipeline = await openPipeline({
    extraSinks: [memory],
    notice: (text) => notices.push(text),
  });
  assert.deepEqual(pipeline.sinks, [memory]);
  assert.equal(pipeline.redisSink, undefined);
  assert.equal(pipeline.traceSink, undefined);
  assert.equal(pipeline.runDir, undefined);
  pipeline.router.emit(_status("one"));
  await pipeline.router.flush();
  assert.deepEqual(memory.events.map((event) => (event as StatusEvent).message), ["one"]);
  await pipeline.close();
  assert.equal(await memory.healthCheck(), "memory sink is closed");
  assert.deepEqual(notices, []);
});

Deno.test("openPipeline with a folder of runs makes the run's folder, says where, and writes trace.json there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const memory = new MemorySink();
    const notices: string[] = [];
    const pipeline = await openPipeline({
      trace: { dir, keepRuns: 3, processName: "svc", runId: "20240101T000000Z-abc" },
      extraSinks: [memory],
      notice: (text) => notices.push(text),
    });
    const runDir = join(dir, "20240101T000000Z-abc");
    assert.equal(pipeline.runDir, runDir);
    assert.ok(pipeline.traceSink);
    assert.deepEqual(pipeline.sinks, [memory, pipeline.traceSink]);
    assert.deepEqual(notices, [`trace of "svc" run 20240101T000000Z-abc in ${runDir}`]);
    pipeline.router.emit(_status("hello"));
    await pipeline.close();
    assert.equal(pipeline.traceSink.tracePath, join(runDir, "trace.json"));
    const trace = await Deno.readTextFile(pipeline.traceSink.tracePath);
    assert.match(trace, /hello/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openPipeline with the caller's run folder uses it as it is and says nothing", async () => {
  const runDir = await Deno.makeTempDir();
  try {
    const notices: string[] = [];
    const pipeline = await openPipeline({
      trace: { runDir, processName: "wrapp record x", runId: "x-1", pid: 4242 },
      notice: (text) => notices.push(text),
    });
    assert.equal(pipeline.runDir, runDir);
    assert.equal(pipeline.traceSink?.tracePath, join(runDir, "trace.json"));
    await pipeline.close();
    assert.deepEqual(notices, []);
    assert.match(await Deno.readTextFile(join(runDir, "trace.json")), /"pid":\s*4242/);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});

Deno.test("routerTo routes to some sinks only, and close() closes it too", async () => {
  const all = new MemorySink();
  const some = new MemorySink();
  const pipeline = await openPipeline({ extraSinks: [all, some] });
  const routed = pipeline.routerTo([some]);
  routed.emit(_status("only some"));
  pipeline.router.emit(_status("everyone"));
  await pipeline.router.flush();
  await routed.flush();
  assert.deepEqual(all.events.map((event) => (event as StatusEvent).message), ["everyone"]);
  assert.deepEqual(
    some.events.map((event) => (event as StatusEvent).message).sort(),
    ["everyone", "only some"],
  );
  await pipeline.close();
  assert.throws(() => routed.emit(_status("late")), /Router is closed/);
});

Deno.test("openPipeline with a config's [redis] and no Redis listening starts spooling and says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const notices: string[] = [];
    const pipeline = await openPipeline({
      redis: {
        fromConfig: {
          config: _redisConfig(_closedPort(), join(dir, "spool")),
          streamName: "svc",
          runId: "run-1",
          pid: () => 1,
          removeMarkers: true,
        },
      },
      notice: (text) => notices.push(text),
    });
    assert.ok(pipeline.redisSink);
    assert.deepEqual(pipeline.sinks, [pipeline.redisSink]);
    const streaming = notices.find((text) => text.startsWith("streaming "));
    assert.match(
      streaming ?? notices.join("\n"),
      /^streaming "svc" to Redis at 127\.0\.0\.1:\d+ \(.+; events wait in the spool\)$/,
    );
    await pipeline.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openPipeline with a bad --redis URL throws UsageError before opening anything", async () => {
  await assert.rejects(
    openPipeline({
      redis: {
        fromFlags: {
          url: "http://nope",
          streamName: "svc",
          env: () => undefined,
          log: () => {},
          debug: () => {},
        },
      },
    }),
    UsageError,
  );
});

Deno.test("redisSinkOptionsFromConfig carries every [redis] setting to the sink", () => {
  const config = {
    ..._redisConfig(6380, "/spool"),
    username: "u",
    password: "p",
    sentinels: ["s:26379"],
    masterName: "m",
    sentinelUsername: "su",
    sentinelPassword: "sp",
    replicasAck: 1,
    replicasAckTimeoutMs: 500,
    policy: "block" as const,
    layout: "wrapp" as const,
  };
  const pid = () => 7;
  const debug = () => {};
  const options = redisSinkOptionsFromConfig(
    { config, streamName: "svc", runId: "r", pid, removeMarkers: false },
    { debug },
  );
  assert.deepEqual(options, {
    host: "127.0.0.1",
    port: 6380,
    tls: false,
    username: "u",
    password: "p",
    sentinels: ["s:26379"],
    masterName: "m",
    sentinelUsername: "su",
    sentinelPassword: "sp",
    replicasAck: 1,
    replicasAckTimeoutMs: 500,
    streamName: "svc",
    runId: "r",
    hostname: Deno.hostname(),
    pid,
    dbs: { logs: 1, values: 2, state: 5 },
    maxLen: 1000,
    layout: "wrapp",
    removeMarkers: false,
    healthIntervalMs: 60_000,
    memoryQueueEvents: 100,
    spoolDir: "/spool",
    spoolMaxBytes: 1 << 20,
    policy: "block",
    onStatus: undefined,
    debug,
    pool: undefined,
  });
});
