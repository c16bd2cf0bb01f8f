/**
 * `wrapp run` into Redis Streams, each figure beside a peer measured in the same run on the
 * same throw-away redis-server:
 *
 * 1. Throughput: `seq 1 1000000` through the real `wrapp run` (a `[redis]` section,
 *    `max_len = 2000000`, echo off), timed from spawn to exit and checked with XLEN —
 *    once with the defaults (memory queue of 100k events, then the disk spool) and once
 *    with a memory queue big enough to never spill. Beside it, the server's ceiling
 *    (`redis-benchmark -P 1000` with 1 and with its default 50 clients on an XADD with the
 *    sink's five fields), and the sink's XADDs sent by ioredis pipelines and by a
 *    hand-encoded RESP pipeline over `Deno.connect` (what a hand-written encoder reaches).
 * 2. Latency from a line being printed to it being readable with XREAD: a paced Python
 *    child prints lines carrying their own CLOCK_REALTIME send time in µs (1k lines/s for
 *    10 s, 50k lines/s for 5 s, in bursts of 1 ms); a separate connection follows
 *    `logs:app:<name>:info` with `XREAD BLOCK 0` from `$` and subtracts. The floor beside
 *    it: the same paced producer doing the XADDs itself (hand-encoded RESP, one pipeline
 *    per burst) into the same key, read the same way.
 *
 * Ends with a summary table: each throughput as a share of the ceiling (the issue's target is
 * ≥ 60%), and the latencies with p50/p99/max, whole run and after the first second.
 *
 * Run: `deno run -A bench/run_redis.ts [lines]`   (default 1000000; needs python3,
 * redis-server and redis-benchmark). Cleans up its redis-server, children and temp folder
 * even on failure or Ctrl-C.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { Redis } from "ioredis";
import { startRedis } from "../tests/_redis.ts";
import { sendBulkPipeline } from "./_resp.ts";

const LINES = Number(Deno.args[0] ?? 1_000_000);
const MAX_LEN = 2_000_000;
const PIPELINE = 2000; // the sink's default batchEvents
const LATENCY_RUNS = [{ rate: 1000, seconds: 10 }, { rate: 50_000, seconds: 5 }];
const WATCHDOG_MS = 300_000;
const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));
const CEILING_COMMAND = [
  "XADD",
  "bench",
  "MAXLEN",
  "~",
  "1000000",
  "*",
  "message",
  "hello",
  "ts",
  "1",
  "run",
  "r",
  "pid",
  "1",
  "host",
  "h",
];

// ---- CLOCK_REALTIME in µs, as Python's time.time_ns() // 1000 gives it to the producer ----

const libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
const timespec = new BigInt64Array(2);
const timespecBytes = new Uint8Array(timespec.buffer);
/** CLOCK_REALTIME (clock id 0) in microseconds. */
function realtimeUs(): number {
  libc.symbols.clock_gettime(0, timespecBytes);
  return Number(timespec[0]) * 1_000_000 + Math.floor(Number(timespec[1]) / 1000);
}

// ---- the paced producer ----

const PRODUCER = `
import os, socket, sys, time

mode, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
burst = max(1, round(rate / 1000))  # lines per 1 ms tick
period = burst / rate
total = int(rate * seconds)
sock = None
if mode == "xadd":
    port, key, maxlen = int(sys.argv[4]), sys.argv[5], sys.argv[6]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def bulk(s):
        b = s.encode()
        return b"$%d\\r\\n%s\\r\\n" % (len(b), b)

    head = b"*16\\r\\n" + b"".join(bulk(a) for a in ["XADD", key, "MAXLEN", "~", maxlen, "*", "message"])
    tail = b"".join(bulk(a) for a in ["run", "bench", "pid", str(os.getpid()), "host", socket.gethostname()])
    buffer = bytearray()

    def replies(lines):  # wait for n replies: "+OK" or "$<len>" + id, counted by newlines
        global buffer
        while buffer.count(b"\\n") < lines:
            chunk = sock.recv(1 << 16)
            if not chunk:
                sys.exit("redis closed the connection")
            buffer += chunk
        buffer = bytearray()

    sock.sendall(b"*2\\r\\n$6\\r\\nSELECT\\r\\n$1\\r\\n1\\r\\n")
    replies(1)


def emit(messages):
    if sock is None:
        data = "".join(m + "\\n" for m in messages).encode()
        while data:
            data = data[os.write(1, data):]
    else:
        sock.sendall(b"".join(head + bulk(m) + bulk("ts") + bulk(m.split()[2][:-3]) + tail for m in messages))
        replies(2 * len(messages))


start = time.monotonic()
sent = tick = 0
while sent < total:
    delay = start + tick * period - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    n = min(burst, total - sent)
    emit(["lat %d %d" % (i, time.time_ns() // 1000) for i in range(sent, sent + n)])
    sent += n
    tick += 1
emit(["end 0 0000"])
`;

// ---- set-up and clean-up ----

const dir = await Deno.makeTempDir({ prefix: "wrapp-bench-redis-" });
const producerPath = `${dir}/producer.py`;
await Deno.writeTextFile(producerPath, PRODUCER);
const redis = await startRedis().catch(async (error) => {
  await Deno.remove(dir, { recursive: true });
  throw error;
});
const children = new Set<Deno.ChildProcess>();
let cleaned: Promise<void> | undefined;

function track(child: Deno.ChildProcess): Deno.ChildProcess {
  children.add(child);
  child.status.then(() => children.delete(child));
  return child;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stop every child (SIGTERM, SIGKILL after 3 s), the redis-server, remove the temp folder. */
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    if (children.size > 0) {
      for (const child of children) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([...children].map((child) => child.status)),
        new Promise((resolve) => timer = setTimeout(resolve, 3000)),
      ]);
      clearTimeout(timer);
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
    }
    await Promise.resolve(redis[Symbol.asyncDispose]()).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  })();
  return cleaned;
}

let interrupted = false;
const onSignal = () => {
  interrupted = true;
  console.error("\ninterrupted: cleaning up");
  cleanup().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);
const watchdog = setTimeout(() => {
  console.error(`bench did not finish within ${WATCHDOG_MS / 1000} s: cleaning up`);
  cleanup().finally(() => Deno.exit(1));
}, WATCHDOG_MS);
Deno.unrefTimer(watchdog);

// ---- helpers ----

const admin = await redis.client(0);
const logs = await redis.client(1);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (us: number) => (us / 1000).toFixed(2);

/** A config running `executable args` into this bench's Redis, echo off. */
async function writeConfig(
  name: string,
  executable: string,
  args: string[],
  extra = "",
): Promise<string> {
  const path = `${dir}/${name}.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[app]",
      `executable = ${JSON.stringify(executable)}`,
      `args = ${JSON.stringify(args)}`,
      `stream_name = ${JSON.stringify(name)}`,
      `stop_grace = "1s"`,
      "",
      "[output]",
      "echo = false",
      "",
      "[redis]",
      `port = ${redis.port}`,
      `max_len = ${MAX_LEN}`,
      `spool_dir = ${JSON.stringify(`${dir}/spool-${name}`)}`,
      extra,
      "",
    ].join("\n"),
  );
  return path;
}

function spawnWrapp(config: string): Deno.ChildProcess {
  return track(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, "run", config, "--debug"],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn(),
  );
}

async function folderBytes(path: string): Promise<number> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isFile) total += (await Deno.stat(`${path}/${entry.name}`)).size;
    }
  } catch {
    return total; // not there yet, or a segment deleted while we looked
  }
  return total;
}

/** What {@linkcode watchProcess} saw of a process. */
interface ProcessUse {
  /** CPU seconds (user + system, all threads) at the last sample. */
  cpu: number;
  /** Peak resident memory (VmHWM) in KiB at the last sample. */
  peakKiB: number;
  /** Peak size of the watched spool folder in bytes. */
  peakSpool: number;
}

/** Sample `/proc/<pid>` (and a spool folder) every 100 ms until `stop()`; the last ≤ 100 ms are missed. */
function watchProcess(pid: number, spoolDir?: string): { stop(): Promise<ProcessUse> } {
  const use: ProcessUse = { cpu: 0, peakKiB: 0, peakSpool: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        use.cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in 1/100 s
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        use.peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? use.peakKiB);
      } catch { /* exited */ }
      if (spoolDir) use.peakSpool = Math.max(use.peakSpool, await folderBytes(spoolDir));
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return use;
    },
  };
}

/** Milliseconds since local midnight of a `[DEBUG HH:MM:SS.mmm]` line matching `pattern`. */
function debugClock(stderr: string, pattern: RegExp): number | undefined {
  for (const line of stderr.split("\n")) {
    const match = /^\[DEBUG (\d\d):(\d\d):(\d\d)\.(\d{3})\] (.*)$/.exec(line);
    if (match && pattern.test(match[5])) {
      const [h, m, s, milli] = match.slice(1, 5).map(Number);
      return ((h * 60 + m) * 60 + s) * 1000 + milli;
    }
  }
  return undefined;
}

// ---- 1. throughput ----

const throughput: { name: string; rate: number }[] = [];
function report(name: string, events: number, seconds: number, note = ""): number {
  const rate = events / seconds;
  throughput.push({ name, rate });
  console.log(`${name.padEnd(52)} ${fmt(rate).padStart(10)} /s  ${note}`);
  return rate;
}

async function redisBenchmark(clients?: number): Promise<number> {
  await admin.flushall();
  const output = await new Deno.Command("redis-benchmark", {
    args: [
      "-p",
      String(redis.port),
      "-P",
      "1000",
      "-n",
      String(LINES),
      ...(clients === undefined ? [] : ["-c", String(clients)]),
      "-q",
      ...CEILING_COMMAND,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const match = /([\d.]+) requests per second/.exec(text.split("\r").pop() ?? "");
  if (!output.success || !match) {
    throw new Error(`redis-benchmark said: ${text}${new TextDecoder().decode(output.stderr)}`);
  }
  const name = `redis-benchmark -P 1000 -c ${clients ?? "50 (default)"}`;
  return report(name, LINES, LINES / Number(match[1]), "XADD, 5 fields, C client");
}

async function wrappThroughput(label: string, extra: string): Promise<number> {
  await admin.flushall();
  const name = "tput";
  const config = await writeConfig(name, "seq", ["1", String(LINES)], extra);
  const spoolDir = `${dir}/spool-${name}`;
  await Deno.remove(spoolDir, { recursive: true }).catch(() => {});
  const spawnedAt = new Date();
  const t0 = performance.now();
  const child = spawnWrapp(config);
  const watch = watchProcess(child.pid, spoolDir);
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  const seconds = (performance.now() - t0) / 1000;
  const use = await watch.stop();
  if (status.code !== 0) throw new Error(`wrapp run exited with ${status.code}:\n${stderr}`);
  // The default go layout adds the run's two separators.
  const xlen = await logs.xlen(`logs:app:${name}:info`);
  if (xlen !== LINES + 2) {
    throw new Error(`wrapp run: XLEN ${xlen}, expected ${LINES} lines + 2 separators\n${stderr}`);
  }
  // Where the time went, from wrapp's own --debug clock (ms, local time of day).
  const spawned = ((spawnedAt.getHours() * 60 + spawnedAt.getMinutes()) * 60 +
        spawnedAt.getSeconds()) * 1000 + spawnedAt.getMilliseconds();
  const started = debugClock(stderr, /^started pid/);
  const ended = debugClock(stderr, /ended with/);
  const exited = debugClock(stderr, /^exit code/);
  const day = 86_400_000;
  const split = started !== undefined && ended !== undefined && exited !== undefined
    ? `start ${(started - spawned + day) % day} ms, child ${
      (ended - started + day) % day
    } ms, drain after child exit ${(exited - ended + day) % day} ms`
    : "no --debug timings";
  return report(
    label,
    LINES,
    seconds,
    `(${seconds.toFixed(2)} s; ${split}; wrapp CPU ${use.cpu.toFixed(1)} s, peak RSS ${
      (use.peakKiB / 1024).toFixed(0)
    } MiB, peak spool ${(use.peakSpool / 2 ** 20).toFixed(0)} MiB)`,
  );
}

/** The sink's XADD for line i. */
function xadd(key: string, i: number, ts: string): string[] {
  return [
    "XADD",
    key,
    "MAXLEN",
    "~",
    String(MAX_LEN),
    "*",
    "message",
    String(i + 1),
    "ts",
    ts,
    "run",
    "20261125-000000-abcdef",
    "pid",
    "4242",
    "host",
    "benchhost",
  ];
}

async function ioredisPipelines(): Promise<number> {
  await admin.flushall();
  const client = new Redis({
    host: "127.0.0.1",
    port: redis.port,
    lazyConnect: true,
    enableOfflineQueue: false,
  });
  await client.connect();
  try {
    const ts = String(Date.now());
    let build = 0;
    const t0 = performance.now();
    for (let i = 0; i < LINES; i += PIPELINE) {
      const b0 = performance.now();
      const pipeline = client.pipeline();
      for (let j = i; j < Math.min(i + PIPELINE, LINES); j++) {
        const [command, ...args] = xadd("raw:ioredis", j, ts);
        pipeline.call(command, args);
      }
      const exec = pipeline.exec(); // encodes and writes synchronously
      build += performance.now() - b0;
      const replies = await exec;
      if (replies?.some(([error]) => error)) throw new Error("ioredis pipeline failed");
    }
    const elapsed = performance.now() - t0;
    const xlen = await client.xlen("raw:ioredis");
    if (xlen !== LINES) throw new Error(`ioredis: XLEN ${xlen}, expected ${LINES}`);
    return report(
      "ioredis pipelines of 2000, sink's XADD (no wrapp)",
      LINES,
      elapsed / 1000,
      `(${(build / elapsed * 100).toFixed(0)}% of the time building/encoding in JS)`,
    );
  } finally {
    client.disconnect();
  }
}

async function handEncodedResp(): Promise<number> {
  await admin.flushall();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: redis.port });
  try {
    const buffer = new Uint8Array(1 << 20);
    const ts = String(Date.now());
    const t0 = performance.now();
    for (let i = 0; i < LINES; i += PIPELINE) {
      const commands: string[][] = [];
      for (let j = i; j < Math.min(i + PIPELINE, LINES); j++) {
        commands.push(xadd("raw:resp", j, ts));
      }
      await sendBulkPipeline(conn, commands, buffer);
    }
    const elapsed = performance.now() - t0;
    const xlen = await admin.xlen("raw:resp");
    if (xlen !== LINES) throw new Error(`RESP: XLEN ${xlen}, expected ${LINES}`);
    return report(
      "hand-encoded RESP pipelines of 2000 (Deno.connect)",
      LINES,
      elapsed / 1000,
      "(what a hand-written encoder in the sink would reach)",
    );
  } finally {
    conn.close();
  }
}

// ---- 2. latency ----

interface Latency {
  path: string;
  rate: number;
  expected: number;
  read: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  /** p50 and p99 of the lines sent after the first second (warmed-up JIT). */
  steady: [number, number];
  /**
   * p50 of each leg, from ms clocks (centred: ±1 ms): print → wrapp read (the entry's `ts`,
   * wrapp only), → in Redis (the entry id's ms: Redis's clock at XADD), → the reader has
   * the parsed XREAD reply.
   */
  legs: { read?: number; added: number; received: number };
  /** wrapp's CPU use in cores (CPU seconds / wall seconds) and peak RSS in MiB. */
  wrapp?: { cores: number; peakMiB: number };
}
const latencies: Latency[] = [];

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Follow `key` (DB 1) with XREAD BLOCK 0 from `$` on its own connection while `produce`
 * runs; `produce` is started only once the server shows the reader blocked.
 */
async function measureLatency(
  path: string,
  rate: number,
  seconds: number,
  key: string,
  produce: () => Deno.ChildProcess,
  viaWrapp: boolean,
): Promise<void> {
  await admin.flushall();
  const expected = Math.floor(rate * seconds);
  const latency = new Float64Array(expected).fill(NaN);
  const sendTimes = new Float64Array(expected).fill(NaN);
  const readAt = new Float64Array(expected).fill(NaN); // wrapp's ts (ms) in µs, centred
  const addedAt = new Float64Array(expected).fill(NaN); // the entry id's ms in µs, centred
  const receivedAt = new Float64Array(expected).fill(NaN);
  const reader = new Redis({
    host: "127.0.0.1",
    port: redis.port,
    db: 1,
    connectionName: "bench-reader",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  reader.on("error", () => {});
  await reader.connect();
  let read = 0;
  let ended = false;
  let wrappUse: Latency["wrapp"];
  const follow = (async () => {
    let id = "$";
    while (!ended) {
      const reply = await reader.xread("BLOCK", 0, "STREAMS", key, id);
      const received = realtimeUs();
      for (const [, entries] of reply ?? []) {
        for (const [entryId, fields] of entries) {
          id = entryId;
          let message = "";
          let ts = NaN;
          for (let f = 0; f < fields.length; f += 2) {
            if (fields[f] === "message") message = fields[f + 1];
            else if (fields[f] === "ts") ts = Number(fields[f + 1]);
          }
          const [tag, seq, sent] = message.split(" "); // a run separator has no "lat" tag
          if (tag === "end") {
            ended = true;
            continue;
          }
          const i = Number(seq);
          if (tag !== "lat" || !(i >= 0 && i < expected) || !Number.isNaN(latency[i])) continue;
          read++;
          latency[i] = received - Number(sent);
          sendTimes[i] = Number(sent);
          // Both are ms floored: + 500 µs centres them.
          if (viaWrapp) readAt[i] = ts * 1000 + 500;
          addedAt[i] = Number(entryId.slice(0, entryId.indexOf("-"))) * 1000 + 500;
          receivedAt[i] = received;
        }
      }
    }
  })().catch((error) => {
    if (!ended && !interrupted) console.error(`reader stopped: ${error}`);
  });
  try {
    // Start the producer only once the reader waits on the server, so `$` misses nothing.
    for (let tries = 0;; tries++) {
      const list = String(await admin.client("LIST"));
      if (/name=bench-reader .*flags=b .*cmd=xread/.test(list)) break;
      if (tries > 500) throw new Error(`the reader never blocked:\n${list}`);
      await sleep(10);
    }
    const producer = produce();
    const started = performance.now();
    const watch = viaWrapp ? watchProcess(producer.pid) : undefined;
    const stderrText = producer.stderr ? new Response(producer.stderr).text() : "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      follow.then(() => true),
      new Promise<false>((resolve) =>
        timer = setTimeout(() => resolve(false), seconds * 1000 + 30_000)
      ),
    ]);
    clearTimeout(timer);
    const stderr = await stderrText;
    const status = await producer.status;
    const use = await watch?.stop();
    if (use) {
      const wall = (performance.now() - started) / 1000;
      wrappUse = { cores: use.cpu / wall, peakMiB: use.peakKiB / 1024 };
    }
    if (!status.success) throw new Error(`${path} exited with ${status.code}:\n${stderr}`);
    if (!done) console.error(`${path} at ${rate}/s: no end line after ${seconds + 30} s`);
  } finally {
    ended = true;
    reader.disconnect();
    await follow;
  }
  const valid = (values: Float64Array) => values.filter((v) => !Number.isNaN(v)).sort();
  const sorted = valid(latency);
  const sends = valid(sendTimes);
  const achieved = sends.length > 1 ? (sends.length - 1) / ((sends.at(-1)! - sends[0]) / 1e6) : 0;
  const result: Latency = {
    path,
    rate,
    expected,
    read,
    achieved,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
    steady: [NaN, NaN],
    legs: { added: NaN, received: NaN },
  };
  const steady = valid(latency.subarray(Math.min(rate, expected)));
  result.steady = [percentile(steady, 0.5), percentile(steady, 0.99)];
  const leg = (to: Float64Array, from: Float64Array) =>
    percentile(valid(to.map((t, i) => t - from[i])), 0.5);
  result.legs = {
    read: viaWrapp ? leg(readAt, sendTimes) : undefined,
    added: leg(addedAt, viaWrapp ? readAt : sendTimes),
    received: leg(receivedAt, addedAt),
  };
  result.wrapp = wrappUse;
  latencies.push(result);
  const { legs } = result;
  console.log(
    `${`${path} @ ${fmt(rate)}/s`.padEnd(40)} read ${fmt(read)}/${fmt(expected)}, achieved ${
      fmt(achieved)
    }/s  p50 ${ms(result.p50)} ms  p99 ${ms(result.p99)} ms  max ${ms(result.max)} ms;` +
      ` after the 1st s: p50 ${ms(result.steady[0])} ms  p99 ${ms(result.steady[1])} ms`,
  );
  console.log(
    `${"".padEnd(40)} p50 of each leg (ms clocks, ±1 ms): ` +
      (legs.read === undefined ? "print" : `print → wrapp read ${ms(legs.read)} ms,`) +
      ` → in Redis (entry id) ${ms(legs.added)} ms, → reader has it ${ms(legs.received)} ms` +
      (result.wrapp
        ? `; wrapp used ${result.wrapp.cores.toFixed(2)} cores, peak RSS ${
          result.wrapp.peakMiB.toFixed(0)
        } MiB`
        : ""),
  );
}

async function wrappLatency(rate: number, seconds: number): Promise<void> {
  const config = await writeConfig("lat", "python3", [
    producerPath,
    "stdout",
    String(rate),
    String(seconds),
  ]);
  const key = "logs:app:lat:info";
  await measureLatency("wrapp run → XREAD", rate, seconds, key, () => spawnWrapp(config), true);
}

async function directLatency(rate: number, seconds: number): Promise<void> {
  const key = "logs:app:lat:info";
  await measureLatency("direct XADD → XREAD (floor)", rate, seconds, key, () =>
    track(
      new Deno.Command("python3", {
        args: [
          producerPath,
          "xadd",
          String(rate),
          String(seconds),
          String(redis.port),
          key,
          String(MAX_LEN),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn(),
    ), false);
}

// ---- the run ----

let failed = false;
try {
  const version = /redis_version:(\S+)/.exec(await admin.info("server"))?.[1];
  console.log(
    `wrapp → Redis Streams: ${
      fmt(LINES)
    } lines; ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}, redis-server ${version} on 127.0.0.1:${redis.port}\n`,
  );
  // Warm Deno's module cache so no measured run pays for it.
  const warm = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "check", await writeConfig("warm", "true", [])],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!warm.success) throw new Error(new TextDecoder().decode(warm.stderr));

  console.log("1. throughput (1M lines or XADDs, each on an empty server)");
  const c50 = await redisBenchmark();
  const c1 = await redisBenchmark(1);
  const wrappDefault = await wrappThroughput(
    "wrapp run, seq 1 1000000, [redis] defaults",
    "",
  );
  const wrappMemory = await wrappThroughput(
    "wrapp run, same, memory_queue = 1100000",
    "memory_queue = 1100000",
  );
  const viaIoredis = await ioredisPipelines();
  const viaResp = await handEncodedResp();

  console.log("\n2. latency, print → readable by XREAD BLOCK 0 from $ (separate connection)");
  for (const { rate, seconds } of LATENCY_RUNS) {
    await wrappLatency(rate, seconds);
    await directLatency(rate, seconds);
  }

  const ceiling = Math.max(c50, c1);
  const pct = (rate: number) => `${(rate / ceiling * 100).toFixed(0)}%`;
  console.log(
    `\n=== summary (ceiling = best redis-benchmark figure, ${fmt(ceiling)}/s) ===\n`,
  );
  console.log(`${"throughput".padEnd(52)} ${"per s".padStart(10)}  of ceiling`);
  for (const row of throughput) {
    console.log(
      `${row.name.padEnd(52)} ${fmt(row.rate).padStart(10)}  ${pct(row.rate).padStart(10)}`,
    );
  }
  console.log(
    `\nwrapp/ceiling: ${pct(wrappDefault)} with the defaults (${
      (wrappDefault / c50 * 100).toFixed(0)
    }% of -c 50, ${(wrappDefault / c1 * 100).toFixed(0)}% of -c 1), ${
      pct(wrappMemory)
    } without spilling to the spool; target ≥ 60%.` +
      ` ioredis alone: ${pct(viaIoredis)}, hand-encoded RESP: ${pct(viaResp)}.`,
  );
  const columns = ["read", "achieved/s", "p50", "p99", "max", "p50 >1s", "p99 >1s"];
  const widths = [17, 10, 8, 8, 8, 8, 8];
  const line = (first: string, cells: string[]) =>
    console.log(`${first.padEnd(40)} ${cells.map((c, i) => c.padStart(widths[i])).join(" ")}`);
  console.log("");
  line("latency, ms (>1s: lines sent after 1 s)", columns);
  for (const l of latencies) {
    line(`${l.path} @ ${fmt(l.rate)}/s`, [
      `${fmt(l.read)}/${fmt(l.expected)}`,
      fmt(l.achieved),
      ...[l.p50, l.p99, l.max, ...l.steady].map(ms),
    ]);
    if (l.read !== l.expected) failed = true;
  }
  console.log(
    "\nThe router hands events to the sink within 2 ms (or per 4096); while a pipeline is in" +
      " flight the sink batches what arrives, so wrapp's p50 is about one pipeline round trip.",
  );
  if (failed) console.error("\nsome lines were not read back: see the table");
} catch (error) {
  failed = true;
  if (!interrupted) console.error(error);
} finally {
  clearTimeout(watchdog);
  await cleanup();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  libc.close();
}
if (failed) Deno.exit(1);
