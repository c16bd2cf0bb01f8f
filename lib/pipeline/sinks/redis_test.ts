import assert from "node:assert/strict";
import { type LogEvent, now } from "../../core/event.ts";
import { fakeRedisServer } from "./fake_redis_server.ts";
import { RedisSink } from "./redis.ts";

/** A sink of service "svc" on a fake server at `port`. */
function connectSink(
  port: number,
  options: { replicasAck?: number; replicasAckTimeoutMs?: number } = {},
) {
  return RedisSink.connect({
    host: "127.0.0.1",
    port,
    streamName: "svc",
    runId: "run-1",
    hostname: "box",
    pid: () => 42,
    ...options,
  });
}

Deno.test("RedisSink keeps lines in order when Redis answers the start of a pipeline LOADING and takes the rest", async () => {
  // A Redis restarted from its AOF refuses writes with LOADING until its data set is in,
  // then takes the rest of the same pipeline: had the sink sent while it loads, the lines
  // after the refused ones would be in the stream before them (the flake "line 9000 out
  // of order: got 10435" of tests/redis_sink_test.ts). Loading here lasts 3 commands.
  let loading = 3;
  const lines: string[] = [];
  const server = fakeRedisServer((args) => {
    if (args[0] === "CLIENT" || args[0] === "SELECT") return "+OK\r\n";
    if (loading > 0) {
      loading--;
      return "-LOADING Redis is loading the dataset in memory\r\n";
    }
    if (args[0] !== "XADD") return args[0] === "PING" ? "+PONG\r\n" : ":1\r\n";
    const message = args[args.indexOf("message") + 1];
    if (message.startsWith("line ")) lines.push(message);
    return "$3\r\n1-0\r\n";
  });
  const sink = await connectSink(server.port);
  try {
    const batch: LogEvent[] = [];
    for (let i = 0; i < 10; i++) {
      batch.push({ kind: "log", stream: "stdout", text: `line ${i}`, time: now() });
    }
    sink.write(batch);
    await sink.flush();
    const first = [...new Set(lines)];
    assert.deepEqual(first, batch.map((event) => event.text));
  } finally {
    await sink.close();
    await server.close();
  }
});

Deno.test("RedisSink writes a long batch in several pipelines with one WAIT after the last XADD, asked again alone when replicas lag", async () => {
  // 512 lines: two full pipelines of 256, so the WAIT goes out on its own; the first WAIT
  // counts no replica, the second one.
  let waits = 0;
  const server = fakeRedisServer((args) => {
    if (args[0] === "WAIT") return `:${waits++ === 0 ? 0 : 1}\r\n`;
    if (args[0] === "XADD") return "$3\r\n1-0\r\n";
    return args[0] === "PING" ? "+PONG\r\n" : "+OK\r\n";
  });
  const sink = await connectSink(server.port, { replicasAck: 1, replicasAckTimeoutMs: 10 });
  try {
    const batch: LogEvent[] = [];
    for (let i = 0; i < 512; i++) {
      batch.push({ kind: "log", stream: "stdout", text: `line ${i}`, time: now() });
    }
    sink.write(batch);
    // Too few replicas is an outage to this sink: it asks again after its backoff.
    for (const deadline = Date.now() + 10_000; sink.stats().sent < 512 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sent = server.commands.filter((args) => args[0] === "XADD" || args[0] === "WAIT");
    const isLine = (args: string[]) => args[0] === "XADD" && args[1] === "logs:app:svc:info";
    const lines = sent.filter(isLine).map((args) => args[args.indexOf("message") + 1]);
    assert.deepEqual(lines, batch.map((event) => event.text), "every line once, in order");
    const waitAt = sent.flatMap((args, i) => args[0] === "WAIT" ? [i] : []);
    // The sink's own notice of the outage may follow, with its WAIT.
    assert.deepEqual(waitAt.slice(0, 2), [512, 513], "a WAIT after every XADD, then one alone");
    assert.equal(sink.stats().sent, 512);
  } finally {
    await sink.close();
    await server.close();
  }
});
