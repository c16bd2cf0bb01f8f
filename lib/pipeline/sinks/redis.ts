/**
 * The Redis Streams sink, in the key layout of the original Go wrapp:
 *
 * | DB | key | written from |
 * | --- | --- | --- |
 * | 1 | `logs:app:<name>:info` / `:error` | stdout / stderr `log` events (`XADD … MAXLEN ~ <maxLen>`) |
 * | 1 | `logs:app:<name>:status` | `status` events |
 * | 2 | `wrapp:<name>:<key>` | `metric` events: `INCR` for `{{key}}`, `SET` for `{{key:value}}` |
 * | 5 | `wrapp:<name>:state` | hash updated on `start`/`restart`/`exit` status events and every health tick; `status_text` from a status event carrying one (the service's `STATUS=`) |
 *
 * Every stream entry has `message`, `ts` (ms since the epoch, when wrapp read the line),
 * `run`, `pid`, `host` and `seq` (the event's sequence number for the service, continued
 * across restarts of wrapp); status entries add `phase` and their fields, log entries
 * `part`/`last`, `lines` and `unterminated` when set.
 *
 * Two entry layouts ({@linkcode RedisSinkOptions.layout}):
 *
 * - `wrapp`: lines as printed, stdout in `:info`, stderr in `:error`, markers left in the
 *   text; a status event is one `:status` entry whose `message` is its text.
 * - `go`: the `message` of every entry is what the Go wrapp wrote for the same output
 *   (see ./go_layout.ts): stderr lines in `:info` too (with `output` = `stderr`), markers
 *   removed, lines trimmed, a line left empty written not at all (and counted as sent).
 *   A run's `start` event writes `{{__NEW_RUN_<time>}}` to `:info` and `:status`, its
 *   `exit` event `Executable exited with code N.` and then `{{__END_RUN_<time>_exit_<N>}}`
 *   to `:status` and the separator to `:info`; separators carry `separator` = `new_run` /
 *   `end_run`, and our text of the event rides along in `detail`. Other status events
 *   are entries as in the `wrapp` layout.
 *
 * **Never blocks, never loses.** {@linkcode RedisSink.write} only queues. Events wait in a
 * memory queue (`memoryQueueEvents`) that one writer loop sends to Redis, one pipeline per
 * DB per batch. When Redis is down, or too slow and the memory queue is full, events go to
 * a {@linkcode DiskSpool} instead, in order; once Redis answers again, the queue is drained
 * oldest first — what waits in memory is always older than what waits in the spool, so
 * order holds across every switch. A spool left by a killed wrapp is sent first on the next
 * start. Events are dropped only when the spool or its disk is full (`drop_oldest`: the
 * oldest segments go), and every drop is counted in {@linkcode RedisSink.stats} and reported
 * in a status event that waits in memory, never in the full spool. With `block`, what a full
 * disk does not take waits in memory while {@linkcode RedisSink.waitForCapacity} holds the
 * output back. A spool on a full, read-only or failing disk at start leaves the sink with
 * memory only, said in a status event.
 *
 * **A kill -9 is never silent.** What only the memory queue holds dies with the process.
 * A {@linkcode DeliveryLedger} in the spool folder numbers every accepted event and notes
 * which numbers are only in memory, on every change; the next sink on the same folder reports
 * them as lost, with their count and `seq` ranges (a status event, so on stderr too).
 *
 * **At-least-once.** A batch is acknowledged command by command from the pipeline replies;
 * from the first command that failed on a connection error, the rest of the batch is sent
 * again later. So an entry whose reply was lost in a crash or disconnect can appear twice
 * in a stream (and an `INCR` count once more); nothing that Redis did not acknowledge is
 * forgotten. A command Redis rejects for good (`WRONGTYPE`, `ERR value is not an integer`)
 * is not retried: the event is counted as dropped and in `errors`.
 *
 * @module
 */

import { describeEndpoint } from "./redis_connection.ts";
import type { crashStreamFields } from "./encode/crash.ts";
import type { hangStreamFields } from "./encode/hang.ts";
import type { Event, EventEncoders } from "../../core/event.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import type { Sink } from "./sink.ts";
import type { DiskSpool } from "./disk_spool.ts";
import type { DeliveryLedger } from "./delivery_ledger.ts";
import { type RedisKeys, redisKeys } from "./redis/keys.ts";
import type { SpooledEvent } from "./redis/spooled_event.ts";
import {
  type FlushReport,
  type RedisSinkOptions,
  type RedisSinkStats,
  validateRedisSinkOptions,
} from "./redis/options.ts";
import {
  type RedisEncoder,
  type RedisEncoderOptions,
  redisEncodersWith,
} from "./redis/encoders.ts";
import { openSpool } from "./redis/open_spool.ts";
import {
  assembleSink,
  SinkCounters,
  type SinkLifecycle,
  type SinkParts,
} from "./redis/sink_parts.ts";
import { SinkRun } from "./redis/sink_run.ts";

// The crash and hang encoders are loaded with the first crash or hang event to encode,
// not at every start.
let _crashStreamFields: typeof crashStreamFields | undefined;
let _hangStreamFields: typeof hangStreamFields | undefined;

/** Load what encodes crash and hang events: {@linkcode redisEncoders} needs it before it encodes one. */
export async function loadCrashEncoding(): Promise<void> {
  _crashStreamFields ??= (await import("./encode/crash.ts")).crashStreamFields;
  _hangStreamFields ??= (await import("./encode/hang.ts")).hangStreamFields;
}

export {
  DEFAULT_REDIS_DBS,
  type RedisDbRole,
  type RedisDbs,
  type RedisKeys,
  redisKeys,
} from "./redis/keys.ts";
export type { SpooledEvent } from "./redis/spooled_event.ts";
export type { FlushReport, RedisSinkOptions, RedisSinkStats } from "./redis/options.ts";
export type { RedisCommand, RedisEncoder, RedisEncoderOptions } from "./redis/encoders.ts";
export { ReplicaAckError } from "./redis/replica_ack_error.ts";

/**
 * One encoder per event kind, in `options.layout`: the commands (with their DB) for one
 * queued event. Crash and hang events need {@linkcode loadCrashEncoding} first. Exported
 * for unit tests; the sink is the only other user.
 */
export function redisEncoders(
  keys: RedisKeys,
  options: RedisEncoderOptions,
): EventEncoders<RedisEncoder> {
  return redisEncodersWith(keys, options, {
    crash: () => _crashStreamFields,
    hang: () => _hangStreamFields,
  });
}

/**
 * Writes events into Redis Streams; see the module documentation.
 *
 * @example Lines into Redis Streams
 * ```ts
 * import { now, RedisSink, Router } from "@wrapp/wrapp";
 *
 * const sink = await RedisSink.connect({
 *   host: "127.0.0.1",
 *   port: 6379,
 *   streamName: "api",
 *   runId: crypto.randomUUID(),
 *   hostname: Deno.hostname(),
 *   pid: () => Deno.pid,
 * });
 * const router = new Router([sink]);
 * router.emit({ kind: "log", time: now(), stream: "stdout", text: "ready" });
 * await router.close(); // delivered, or spooled to disk while Redis is down
 * console.log(sink.keys.info); // logs:app:api:info
 * ```
 */
export class RedisSink implements Sink {
  /** `redis`. */
  readonly name = "redis";
  /**
   * `host:port` as shown in messages; with Sentinels,
   * `master "mymaster" via Sentinel "10.0.0.2:26379", …`.
   */
  readonly address: string;
  /** The keys written. */
  readonly keys: RedisKeys;

  readonly #options: RedisSinkOptions;
  readonly #debugLog: DebugLog;
  readonly #spool: DiskSpool<SpooledEvent> | undefined;
  readonly #ledger: DeliveryLedger;
  readonly #counters: SinkCounters;
  readonly #life: SinkLifecycle = { closing: false, closed: false };
  readonly #parts: SinkParts;
  readonly #run: SinkRun;
  #closePromise: Promise<void> | undefined;

  private constructor(
    options: RedisSinkOptions,
    spool: DiskSpool<SpooledEvent> | undefined,
    ledger: DeliveryLedger,
    spoolProblem?: string,
  ) {
    this.#options = options;
    const sentinel = (options.sentinels?.length ?? 0) > 0;
    this.address = sentinel
      ? describeEndpoint(options)
      : options.host.includes(":")
      ? `[${options.host}]:${options.port}`
      : `${options.host}:${options.port}`;
    this.keys = redisKeys(options.streamName);
    const debug = options.debug ?? silentDebug;
    this.#debugLog = (message) => debug(`redis: ${this.#redact(message)}`);
    this.#spool = spool;
    this.#ledger = ledger;
    this.#counters = new SinkCounters(spool);
    this.#parts = assembleSink({
      options,
      keys: this.keys,
      address: this.address,
      // "Redis at "host:port"", or "Redis master "m" via Sentinel …": what messages name.
      where: sentinel ? `Redis ${this.address}` : `Redis at "${this.address}"`,
      spool,
      ledger,
      counters: this.#counters,
      lifecycle: this.#life,
      encoders: redisEncoders,
      reportsLoaded: () => _hangStreamFields !== undefined,
      loadReports: loadCrashEncoding,
      pid: () => this.#pid(),
      redact: (text) => this.#redact(text),
      debug: this.#debugLog,
    });
    this.#run = new SinkRun({
      options,
      parts: this.#parts,
      counters: this.#counters,
      lifecycle: this.#life,
      spool,
      spoolProblem,
      ledger,
      address: this.address,
      stateKey: this.keys.state,
      flushWithin: (timeoutMs, flush) => this.flushWithin(timeoutMs, flush),
      stats: () => this.stats(),
      pid: () => this.#pid(),
      redact: (text) => this.#redact(text),
      debug: this.#debugLog,
    });
  }

  /**
   * Open the spool (replaying what a previous process left), connect the three
   * connections and start the writer. Redis being down is not an error: the sink starts
   * in down mode, spools, and delivers once Redis answers. A spool folder on a full,
   * read-only or failing disk is not an error either: the sink goes on with memory only
   * and says so in a status event. Throws `TypeError`/`RangeError` for bad options and
   * {@linkcode SinkError} when the spool folder cannot be used otherwise (another wrapp
   * holds it, permission denied).
   */
  static async connect(options: RedisSinkOptions): Promise<RedisSink> {
    validateRedisSinkOptions(options);
    const { spool, ledger, spoolProblem } = await openSpool(options);
    const sink = new RedisSink(options, spool, ledger, spoolProblem);
    await sink.#run.start();
    return sink;
  }

  /** Queue a batch. Never blocks, never throws; see {@linkcode RedisSinkOptions.policy}. */
  write(batch: readonly Event[]): void {
    if (batch.length === 0) return;
    const counters = this.#counters;
    counters.stats.received += batch.length;
    try {
      if (this.#life.closing) {
        counters.ownDropped += batch.length;
        this.#debugLog(`${batch.length} events written after close() dropped`);
        return;
      }
      const pid = this.#pid();
      const run = this.#options.runId;
      const records = new Array<SpooledEvent>(batch.length);
      for (let i = 0; i < batch.length; i++) records[i] = { run, pid, event: batch[i] };
      counters.accepted += records.length;
      this.#parts.backlog.enqueue(records);
    } catch (error) {
      // A bug must not reach the child's output path: count it, keep going.
      counters.stats.errors++;
      counters.ownDropped += batch.length;
      this.#debugLog(`write() failed, ${batch.length} events dropped: ${error}`);
    }
  }

  /**
   * Resolve once every event accepted so far is in Redis, or counted as dropped — or,
   * while Redis is down, safely waiting: fsynced in the spool (without a spool, waiting
   * in memory).
   */
  async flush(): Promise<void> {
    await this.flushWithin(Infinity);
  }

  /**
   * {@linkcode RedisSink.flush}, giving up after `timeoutMs`; says what still waits. With
   * `untilStalled`, the time limit restarts whenever an event is delivered, so a long
   * backlog drains fully while Redis keeps up, and only a stuck Redis ends the wait.
   */
  async flushWithin(
    timeoutMs: number,
    options: { untilStalled?: boolean } = {},
  ): Promise<FlushReport> {
    const target = this.#counters.accepted;
    let deadline = performance.now() + timeoutMs;
    let done = -1;
    const { backlog, outage } = this.#parts;
    for (;;) {
      const delivered = this.#counters.delivered();
      if (delivered >= target) return this.#report(true);
      if (options.untilStalled && delivered > done) {
        done = delivered;
        deadline = performance.now() + timeoutMs;
      }
      if (outage.down && this.#spool === undefined) return this.#report(false); // waiting in memory
      if (
        outage.down && backlog.memory.length === 0 && backlog.overflow.length === 0 &&
        (backlog.inflight === undefined || backlog.inflight.source === "spool")
      ) {
        // The sink's own notices stay in memory (see SinkStatus); close() spools them.
        await this.#spool!.sync();
        return this.#report(true);
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.#life.closed) return this.#report(false);
      await this.#parts.progress.wait(Math.min(left, 1000));
    }
  }

  /**
   * `undefined` when the service's output may be read on, else a promise for when it may.
   * With `block`, that is once the spool (or, without one, the memory queue) is below its
   * limit again. And while Redis keeps up, a burst is read only as fast as Redis takes it
   * (see `redis/burst_pacer.ts`); a Redis that stalls 200 ms ends that, and the spool takes
   * the burst. The output pipeline awaits this before reading more of the child's output.
   */
  waitForCapacity(): Promise<void> | undefined {
    const block = (this.#options.policy ?? "drop_oldest") === "block";
    if (block && !this.#life.closing && !this.hasCapacity) return this.#waitForRoom();
    return this.#parts.pacer.wait();
  }

  async #waitForRoom(): Promise<void> {
    while (!this.#life.closing && !this.hasCapacity) {
      await this.#parts.progress.wait(1000);
      this.#parts.backlog.drainOverflow(); // the disk may have room again while Redis is still away
    }
  }

  /**
   * Whether the spool (or, without one, the memory queue) is below its limit and, with
   * `block`, the disk took every event handed to the spool.
   */
  get hasCapacity(): boolean {
    return this.#parts.backlog.hasCapacity;
  }

  /**
   * Flush until delivery stalls for `closeTimeoutMs`, leave what is undelivered in the spool for the
   * next start (without a spool it is counted as dropped), and close the connections.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#run.close();
    return this.#closePromise;
  }

  /** {@linkcode RedisSink.close}, for `await using sink = await RedisSink.connect(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `undefined` when Redis answers PING on every connection, else what is wrong. */
  healthCheck(): Promise<string | undefined> {
    return this.#run.healthCheck();
  }

  /** Current counters; `dropped` includes events lost to spool limits and corruption. */
  stats(): RedisSinkStats {
    const counters = this.#counters;
    return {
      ...counters.stats,
      dropped: counters.dropped(),
      queued: this.#parts.backlog.queued,
      spooled: this.#spool?.count ?? 0,
      spoolBytes: this.#spool?.bytes ?? 0,
      recovered: counters.recovered,
      lostBefore: counters.lostBefore,
      seq: this.#ledger.accepted,
      connected: !this.#parts.outage.down,
    };
  }

  // ---- small helpers ----

  /** The child's pid now; 0 if the callback fails (it must not cost an event). */
  #pid(): number {
    try {
      return this.#options.pid();
    } catch {
      return 0;
    }
  }

  #redact(text: string): string {
    for (const secret of [this.#options.password, this.#options.sentinelPassword]) {
      if (secret) text = text.split(secret).join("***");
    }
    return text;
  }

  #report(complete: boolean): FlushReport {
    const spooled = this.#spool?.count ?? 0;
    return { complete, waiting: this.stats().queued + spooled, spooled };
  }
}
