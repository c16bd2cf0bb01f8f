/**
 * Events/s of {@linkcode RedisSink} writing 1M short log events into a local redis-server,
 * side by side, on the same server in the same run, with:
 *
 * - `redis-benchmark -P 1000 -n 1000000 XADD bench MAXLEN ~ 1000 * message hello` (the ceiling:
 *   C client, one field),
 * - the same XADD commands as the sink (5 fields) sent through ioredis pipelines directly,
 *   with the time spent building the pipelines (command encoding) measured apart,
 * - the same commands hand-encoded as RESP and pipelined over `Deno.connect`.
 *
 * Run: `deno run -A bench/redis_sink_bench.ts [events]`
 *
 * @module
 */

import { Redis } from "ioredis";
import { type LogEvent, now } from "../lib/core/event.ts";
import { RedisSink } from "../lib/pipeline/sinks/redis.ts";
import { startRedis } from "../tests/_redis.ts";
import { sendBulkPipeline } from "./_resp.ts";

const EVENTS = Number(Deno.args[0] ?? 1_000_000);
const BATCH = 4096; // the Router's batch size
const PIPELINE = 2000; // the sink's default batchEvents

await using redis = await startRedis();
const results: [string, number, string][] = [];
const report = (name: string, events: number, ms: number, note = "") => {
  const rate = Math.round(events / ms * 1000);
  results.push([name, rate, note]);
  console.log(`${name.padEnd(44)} ${String(rate).padStart(9)} events/s  ${note}`);
};

function events(from: number, count: number): LogEvent[] {
  const time = now();
  return Array.from({ length: count }, (_, i) => ({
    kind: "log",
    stream: "stdout",
    text: `hello ${from + i}`,
    time,
  }));
}

async function sinkRun(name: string, spoolDir: string | undefined, memoryQueueEvents: number) {
  const sink = await RedisSink.connect({
    host: "127.0.0.1",
    port: redis.port,
    streamName: "bench",
    runId: "run-bench",
    hostname: "benchhost",
    pid: () => 4242,
    memoryQueueEvents,
    spoolDir,
  });
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) sink.write(events(i, Math.min(BATCH, EVENTS - i)));
  const tWritten = performance.now();
  await sink.flush();
  const ms = performance.now() - t0;
  const stats = sink.stats();
  await sink.close();
  if (stats.sent !== EVENTS || stats.dropped !== 0) {
    throw new Error(`${name}: ${JSON.stringify(stats)}`);
  }
  report(name, EVENTS, ms, `(write() calls took ${(tWritten - t0).toFixed(0)} ms in total)`);
}

// 1. RedisSink, everything fits in memory.
await sinkRun("RedisSink (memory queue)", undefined, EVENTS);

// 2. RedisSink with its defaults: 100k in memory, the rest through the disk spool.
const spoolDir = await Deno.makeTempDir({ prefix: "wrapp-bench-spool-" });
try {
  await sinkRun("RedisSink (100k memory, spill to disk spool)", spoolDir, 100_000);
} finally {
  await Deno.remove(spoolDir, { recursive: true });
}

// 3. redis-benchmark on the same server: the asked-for command with its default 50
// connections and with 1 like the sink, then with the sink's five fields.
const sinkFields = ["ts", "1732530000123", "run", "run-bench", "pid", "4242", "host", "benchhost"];
for (const [clients, fields] of [[50, 1], [1, 1], [1, 5]]) {
  const command = ["XADD", "bench", "MAXLEN", "~", "1000", "*", "message", "hello"];
  const options = ["-p", String(redis.port), "-c", String(clients), "-P", "1000"];
  const output = await new Deno.Command("redis-benchmark", {
    args: [...options, "-n", String(EVENTS), "-q", ...command, ...(fields === 5 ? sinkFields : [])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const match = /([\d.]+) requests per second/.exec(text.split("\r").pop() ?? "");
  if (!match) throw new Error(`redis-benchmark said: ${text}`);
  const name = `redis-benchmark -c ${clients} -P 1000 (${fields === 5 ? "5 fields" : "1 field"})`;
  report(name, EVENTS, EVENTS / Number(match[1]) * 1000);
}

/** The sink's XADD for event i. */
function xadd(i: number, ts: string): string[] {
  return [
    "XADD",
    "bench:raw",
    "MAXLEN",
    "~",
    "1000",
    "*",
    "message",
    `hello ${i}`,
    "ts",
    ts,
    "run",
    "run-bench",
    "pid",
    "4242",
    "host",
    "benchhost",
  ];
}

// 4. ioredis alone with the sink's commands: building the pipeline vs waiting for Redis.
{
  const client = new Redis({
    host: "127.0.0.1",
    port: redis.port,
    lazyConnect: true,
    enableOfflineQueue: false,
  });
  await client.connect();
  const ts = String(Math.floor(now()));
  let build = 0;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += PIPELINE) {
    const b0 = performance.now();
    const pipeline = client.pipeline();
    for (let j = i; j < Math.min(i + PIPELINE, EVENTS); j++) {
      const [command, ...args] = xadd(j, ts);
      pipeline.call(command, args);
    }
    const exec = pipeline.exec(); // encodes and writes the commands synchronously
    build += performance.now() - b0;
    const replies = await exec;
    if (replies?.some(([error]) => error)) throw new Error("ioredis pipeline failed");
  }
  const ms = performance.now() - t0;
  client.disconnect();
  report(
    "ioredis pipelines, sink's XADD (5 fields)",
    EVENTS,
    ms,
    `(${(build / ms * 100).toFixed(0)}% of the time building/encoding/writing in JS)`,
  );
}

// 5. Hand-encoded RESP over Deno.connect: one string per pipeline, replies counted.
{
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: redis.port });
  const buffer = new Uint8Array(1 << 20);
  const ts = String(Math.floor(now()));
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += PIPELINE) {
    const commands: string[][] = [];
    for (let j = i; j < Math.min(i + PIPELINE, EVENTS); j++) commands.push(xadd(j, ts));
    await sendBulkPipeline(conn, commands, buffer);
  }
  const ms = performance.now() - t0;
  conn.close();
  report("hand-encoded RESP over Deno.connect (5 fields)", EVENTS, ms);
}

console.log(
  `\n${EVENTS} events, pipelines of ${PIPELINE}, redis-server on 127.0.0.1:${redis.port}`,
);
