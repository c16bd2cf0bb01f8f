// RedisSink and its disk spool: what close() leaves, what a killed wrapp left, and the
// limits (a full spool, policy block, no spool at all).
import assert from "node:assert/strict";
import type { StatusEvent } from "../lib/core/event.ts";
import { RedisSink } from "../lib/pipeline/sinks/redis.ts";
import { freePort, startRedis } from "./_redis.ts";
import {
  assertInOrder,
  lineNumbers,
  log,
  logs,
  options,
  readStream,
  ROOT,
  tempDir,
  waitFor,
  writeLines,
} from "./_redis_sink.ts";

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
  const waiting = sink.waitForCapacity();
  assert.ok(waiting, "a full spool under policy block holds the producer");
  waiting.then(() => released = true);
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

Deno.test("RedisSink.close() reports the drops its 10 s limit held back", async () => {
  const port = freePort();
  const sink = await RedisSink.connect(options(port, { memoryQueueEvents: 1000, maxLen: 100_000 }));
  writeLines(sink, 0, 3000, 100); // the first drop is reported at once, the rest held back
  await using redis = await startRedis({ port });
  await waitFor(() => sink.stats().queued === 0 && sink.stats().connected, "delivery");
  // Redis is up, but 3000 lines at once still overflow memory: within 10 s of the last report.
  writeLines(sink, 3000, 3000, 100);
  await sink.close();
  const dropped = sink.stats().dropped;
  assert.equal(dropped, 4001);
  const reports = (await (await redis.client(1)).xrange("logs:app:svc:status", "-", "+"))
    .map(([, fields]) => fields).filter((fields) => fields.includes("dropped_total"));
  const field = (fields: string[], name: string) => Number(fields[fields.indexOf(name) + 1]);
  assert.equal(reports.reduce((sum, fields) => sum + field(fields, "dropped"), 0), dropped);
  assert.equal(field(reports.at(-1)!, "dropped_total"), dropped);
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

Deno.test("RedisSink paces a burst to a healthy Redis: nothing goes to the spool, every line arrives in order", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  // A stall limit no busy machine reaches: this test is about the wiring, burst_pacer_test
  // about stalls.
  const sink = await RedisSink.connect(options(redis.port, {
    spoolDir: `${dir.path}/spool`,
    memoryQueueEvents: 20_000,
    burstStallMs: 60_000,
    maxLen: 1_000_000,
  }));
  // As the output pipeline does: write what one read framed, then await the sink's word.
  const count = 200_000;
  let spooled = 0;
  for (let i = 0; i < count; i += 4096) {
    sink.write(logs(i, Math.min(i + 4096, count)));
    spooled = Math.max(spooled, sink.stats().spooled);
    await sink.waitForCapacity();
  }
  await sink.close();
  assert.equal(spooled, 0, "a burst Redis keeps up with waits in the pipe, not in the spool");
  assert.equal(sink.stats().dropped, 0);
  assertInOrder(await lineNumbers(redis), count);
});
