/**
 * What `[redis] replicas_ack = 1` costs, into a master with one replica (both throw-away
 * redis-servers on loopback), with `replicas_ack = 0` and `= 1` alternately, three rounds
 * each, median lines/s of each and their ratio:
 *
 * 1. the sink alone: `<lines>` log events written to a `RedisSink` in batches of 4096, timed
 *    until `flush()` says all are in Redis;
 * 2. `seq 1 <lines>` through the real `wrapp run`, timed from spawn to exit (start-up
 *    included) and checked with XLEN;
 * 3. the time one event takes from `write()` to `flush()` resolving (one batch, one
 *    pipeline, plus the WAIT with `replicas_ack = 1`), median of 200.
 *
 * Run: `deno run -A bench/replicas_ack.ts [lines]`   (default 300000; needs redis-server)
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { startRedis } from "../tests/_redis.ts";
import { RedisSink } from "../lib/pipeline/sinks/redis.ts";
import { type LogEvent, now } from "../lib/core/event.ts";

const LINES = Number(Deno.args[0] ?? 300_000);
const ROUNDS = 3;
const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));

const dir = await Deno.makeTempDir({ prefix: "wrapp-bench-ack-" });
try {
  await Deno.mkdir(`${dir}/master`);
  await Deno.mkdir(`${dir}/replica`);
  await using master = await startRedis({ args: ["--dir", `${dir}/master`] });
  await using _replica = await startRedis({
    args: ["--dir", `${dir}/replica`, "--replicaof", "127.0.0.1", String(master.port)],
  });
  const client = await master.client(1);
  while (!/state=online/.test(await client.info("replication"))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const sinkRun = async (replicasAck: number, round: number): Promise<number> => {
    const name = `sink${replicasAck}_${round}`;
    const sink = await RedisSink.connect({
      host: "127.0.0.1",
      port: master.port,
      streamName: name,
      runId: "bench",
      hostname: "bench",
      pid: () => 1,
      maxLen: LINES * 2,
      memoryQueueEvents: LINES * 2,
      replicasAck,
    });
    const started = performance.now();
    for (let i = 0; i < LINES; i += 4096) {
      const batch: LogEvent[] = [];
      for (let j = i; j < Math.min(i + 4096, LINES); j++) {
        batch.push({ kind: "log", stream: "stdout", text: `line ${j}`, time: now() });
      }
      sink.write(batch);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await sink.flush();
    const seconds = (performance.now() - started) / 1000;
    await sink.close();
    const length = await client.xlen(`logs:app:${name}:info`);
    if (length !== LINES) throw new Error(`${name}: ${length} entries, expected ${LINES}`);
    await client.del(`logs:app:${name}:info`);
    return LINES / seconds;
  };
  const run = async (replicasAck: number, round: number): Promise<number> => {
    const name = `ack${replicasAck}_${round}`;
    const config = `${dir}/${name}.toml`;
    await Deno.writeTextFile(
      config,
      `[app]\nexecutable = "seq"\nargs = ["1", "${LINES}"]\nstream_name = "${name}"\n` +
        `[output]\necho = false\n[crash]\nebpf_backtrace = false\n` +
        `[redis]\nport = ${master.port}\nmax_len = ${
          LINES * 2
        }\nspool_dir = "${dir}/spool-${name}"\n` +
        `replicas_ack = ${replicasAck}\n`,
    );
    const started = performance.now();
    const out = await new Deno.Command("deno", {
      args: ["run", "-A", "--quiet", MAIN, "run", config],
      stdout: "null",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const length = await client.xlen(`logs:app:${name}:info`);
    // Every line, plus the run separators; duplicates would mean a retried batch.
    if (length < LINES) throw new Error(`${name}: ${length} entries, expected ${LINES}`);
    await client.del(`logs:app:${name}:info`, `logs:app:${name}:status`);
    return LINES / seconds;
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const compare = async (
    title: string,
    measure: (ack: number, round: number) => Promise<number>,
  ) => {
    await measure(0, -1); // warm up
    const rates: Record<0 | 1, number[]> = { 0: [], 1: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const ack of [0, 1] as const) rates[ack].push(await measure(ack, round));
    }
    const [without, withAck] = [median(rates[0]), median(rates[1])];
    console.log(`${title}, master + 1 replica on loopback, median of ${ROUNDS}:`);
    console.log(`  replicas_ack = 0: ${Math.round(without)} lines/s (${rates[0].map(Math.round)})`);
    console.log(`  replicas_ack = 1: ${Math.round(withAck)} lines/s (${rates[1].map(Math.round)})`);
    console.log(`  ratio: ${(withAck / without).toFixed(2)}`);
  };
  await compare(`RedisSink, ${LINES} events`, sinkRun);
  for (const replicasAck of [0, 1]) {
    const sink = await RedisSink.connect({
      host: "127.0.0.1",
      port: master.port,
      streamName: `one${replicasAck}`,
      runId: "bench",
      hostname: "bench",
      pid: () => 1,
      replicasAck,
    });
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      sink.write([{ kind: "log", stream: "stdout", text: `line ${i}`, time: now() }]);
      await sink.flush();
      times.push(performance.now() - started);
    }
    await sink.close();
    console.log(
      `one event, write() to flush(), replicas_ack = ${replicasAck}: median ${
        median(times).toFixed(2)
      } ms`,
    );
  }
  await compare(`wrapp run, seq 1 ${LINES}`, run);
} finally {
  await Deno.remove(dir, { recursive: true });
}
