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

import type { RespClient } from "./resp_client.ts";
import {
  describeConnectFailure,
  describeEndpoint,
  describeRedisError,
} from "./redis_connection.ts";
import type { crashStreamFields } from "../../features/run/crash/crash_report.ts";
import type { hangStreamFields } from "../../features/run/watchdog/hang_report.ts";
import { type Event, type EventEncoders, now, type StatusEvent } from "../../core/event.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { VERSION } from "../../core/version.ts";
import { emptyStats, type Sink } from "./sink.ts";
import type { DiskSpool, SpoolPolicy } from "./disk_spool.ts";
import { type LongTimer, setLongInterval } from "../../core/long_timeout.ts";
import type { DeliveryLedger } from "./delivery_ledger.ts";
import { DEFAULT_REDIS_DBS, type RedisDbRole, type RedisKeys, redisKeys } from "./redis/keys.ts";
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
import { Backlog } from "./redis/backlog.ts";
import { BatchSender } from "./redis/batch_sender.ts";
import { ReplicaAckError } from "./redis/replica_ack_error.ts";
import { connectShared, sinkClient } from "./redis/connections.ts";
import { openSpool } from "./redis/open_spool.ts";
import { dropsMessage, memoryOnlyMessage, previousLossMessage } from "./redis/sink_messages.ts";
import { ProgressWaiters, WriterWakeup } from "./redis/wakeups.ts";
import { withTimeout } from "./redis/with_timeout.ts";

// Crash and hang reports (with gdb, the core search and ELF reading under them) are loaded
// with the first crash or hang event to encode, not at every start.
let _crashStreamFields: typeof crashStreamFields | undefined;
let _hangStreamFields: typeof hangStreamFields | undefined;

/** Load what encodes crash and hang events: {@linkcode redisEncoders} needs it before it encodes one. */
export async function loadCrashEncoding(): Promise<void> {
  _crashStreamFields ??=
    (await import("../../features/run/crash/crash_report.ts")).crashStreamFields;
  _hangStreamFields ??=
    (await import("../../features/run/watchdog/hang_report.ts")).hangStreamFields;
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

const _DB_ROLES: readonly RedisDbRole[] = ["logs", "values", "state"];

/** Writes events into Redis Streams; see the module documentation. */
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
  // "Redis at "host:port"", or "Redis master "m" via Sentinel …": what messages name.
  readonly #where: string;
  readonly #memoryLimit: number;
  readonly #policy: SpoolPolicy;
  readonly #debugLog: DebugLog;
  readonly #spool: DiskSpool<SpooledEvent> | undefined;
  readonly #ledger: DeliveryLedger;
  readonly #spoolProblem: string | undefined;
  readonly #clients: Record<RedisDbRole, RespClient>;
  readonly #backlog: Backlog;
  readonly #sender: BatchSender;
  #stats = emptyStats();
  #ownDropped = 0;
  #recovered = 0;
  #lostBefore = 0;
  #accepted = 0; // recovered + received: what flush() counts against sent + dropped
  #down = false;
  #downSince = 0;
  #droppedAtDown = 0;
  #backoffMs = 0;
  #connectionError: unknown;
  #failure: unknown;
  // The current outage is only replicas too slow for replicas_ack (Redis itself answered).
  #downForLagOnly = false;
  #loop: Promise<void> = Promise.resolve();
  readonly #wakeup = new WriterWakeup();
  // The writer waits for events (nothing queued, Redis up): a kick sends what comes next.
  #idle = false;
  readonly #progress = new ProgressWaiters();
  #healthTimer: LongTimer | undefined;
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #rejections = new Set<string>();
  #dropsReportedAt = -Infinity;
  #dropsUnreported = 0;
  #writeErrorsReported = 0;
  // Listeners on pooled connections, removed when this sink closes (the connection stays).
  readonly #detach: (() => void)[] = [];

  private constructor(
    options: RedisSinkOptions,
    spool: DiskSpool<SpooledEvent> | undefined,
    ledger: DeliveryLedger,
    spoolProblem?: string,
  ) {
    this.#options = options;
    this.#spoolProblem = spoolProblem;
    const sentinel = (options.sentinels?.length ?? 0) > 0;
    this.address = sentinel
      ? describeEndpoint(options)
      : options.host.includes(":")
      ? `[${options.host}]:${options.port}`
      : `${options.host}:${options.port}`;
    this.#where = sentinel ? `Redis ${this.address}` : `Redis at "${this.address}"`;
    this.keys = redisKeys(options.streamName);
    this.#memoryLimit = options.memoryQueueEvents ?? 100_000;
    this.#policy = options.policy ?? "drop_oldest";
    const debug = options.debug ?? silentDebug;
    this.#debugLog = (message) => debug(`redis: ${this.#redact(message)}`);
    this.#spool = spool;
    this.#ledger = ledger;
    const dbs = { ...DEFAULT_REDIS_DBS, ...options.dbs };
    this.#clients = {
      logs: this.#client(dbs.logs),
      values: this.#client(dbs.values),
      state: this.#client(dbs.state),
    };
    this.#backlog = this.#newBacklog();
    this.#sender = this.#newSender();
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
    await sink.#start();
    return sink;
  }

  /** Queue a batch. Never blocks, never throws; see {@linkcode RedisSinkOptions.policy}. */
  write(batch: readonly Event[]): void {
    if (batch.length === 0) return;
    this.#stats.received += batch.length;
    try {
      if (this.#closing) {
        this.#ownDropped += batch.length;
        this.#debugLog(`${batch.length} events written after close() dropped`);
        return;
      }
      const pid = this.#pid();
      const run = this.#options.runId;
      const records = new Array<SpooledEvent>(batch.length);
      for (let i = 0; i < batch.length; i++) records[i] = { run, pid, event: batch[i] };
      this.#accepted += records.length;
      this.#backlog.enqueue(records);
    } catch (error) {
      // A bug must not reach the child's output path: count it, keep going.
      this.#stats.errors++;
      this.#ownDropped += batch.length;
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
    const target = this.#accepted;
    let deadline = performance.now() + timeoutMs;
    let done = -1;
    const backlog = this.#backlog;
    for (;;) {
      const delivered = this.#stats.sent + this.#dropped();
      if (delivered >= target) return this.#report(true);
      if (options.untilStalled && delivered > done) {
        done = delivered;
        deadline = performance.now() + timeoutMs;
      }
      if (this.#down && this.#spool === undefined) return this.#report(false); // waiting in memory
      if (
        this.#down && backlog.memory.length === 0 && backlog.overflow.length === 0 &&
        (backlog.inflight === undefined || backlog.inflight.source === "spool")
      ) {
        // The sink's own notices stay in memory (see #status); close() spools them.
        await this.#spool!.sync();
        return this.#report(true);
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.#closed) return this.#report(false);
      await this.#progress.wait(Math.min(left, 1000));
    }
  }

  /**
   * Resolve when there is room for more events: at once with `drop_oldest`; with `block`,
   * once the spool (or, without one, the memory queue) is below its limit again. The
   * output pipeline awaits this before reading more of the child's output.
   */
  async waitForCapacity(): Promise<void> {
    while (this.#policy === "block" && !this.#closing && !this.hasCapacity) {
      await this.#progress.wait(1000);
      this.#backlog.drainOverflow(); // the disk may have room again while Redis is still away
    }
  }

  /**
   * Whether the spool (or, without one, the memory queue) is below its limit and, with
   * `block`, the disk took every event handed to the spool.
   */
  get hasCapacity(): boolean {
    return this.#backlog.hasCapacity;
  }

  /**
   * Flush until delivery stalls for `closeTimeoutMs`, leave what is undelivered in the spool for the
   * next start (without a spool it is counted as dropped), and close the connections.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  /** {@linkcode RedisSink.close}, for `await using sink = await RedisSink.connect(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `undefined` when Redis answers PING on every connection, else what is wrong. */
  async healthCheck(): Promise<string | undefined> {
    if (this.#closed) return "Redis sink is closed";
    if (!this.#down) {
      try {
        await withTimeout(
          Promise.all(_DB_ROLES.map((db) => this.#clients[db].ping())),
          2000,
          "no answer to PING",
        );
      } catch (error) {
        this.#markDown(error);
      }
    }
    return this.#down
      ? this.#redact(describeConnectFailure(this.#options, this.#connectionError ?? this.#failure))
      : undefined;
  }

  /** Current counters; `dropped` includes events lost to spool limits and corruption. */
  stats(): RedisSinkStats {
    return {
      ...this.#stats,
      dropped: this.#dropped(),
      queued: this.#backlog.queued,
      spooled: this.#spool?.count ?? 0,
      spoolBytes: this.#spool?.bytes ?? 0,
      recovered: this.#recovered,
      lostBefore: this.#lostBefore,
      seq: this.#ledger.accepted,
      connected: !this.#down,
    };
  }

  // ---- start and stop ----

  #client(db: number): RespClient {
    const client = sinkClient(this.#options, db);
    const onError = (error: unknown) => {
      // After a refused AUTH the ready check fails with NOAUTH: the first reason is the useful one.
      if (
        /^NOAUTH/.test(String((error as Error)?.message)) &&
        /^WRONGPASS/.test(String((this.#connectionError as Error)?.message))
      ) return;
      if (String(this.#connectionError) !== String(error)) {
        this.#debugLog(`db ${db}: ${describeRedisError(error)}`);
      }
      this.#connectionError = error;
    };
    const onReady = () => {
      this.#connectionError = undefined;
      this.#wakeup.kick();
    };
    client.on("error", onError);
    client.on("ready", onReady);
    if (this.#options.pool) {
      this.#detach.push(() => {
        client.off("error", onError);
        client.off("ready", onReady);
      });
    }
    return client;
  }

  #newBacklog(): Backlog {
    return new Backlog(this.#spool, this.#ledger, {
      memoryLimit: this.#memoryLimit,
      batchEvents: this.#options.batchEvents ?? 2000,
      policy: this.#policy,
    }, {
      isDown: () => this.#down,
      isIdle: () => this.#idle,
      isClosing: () => this.#closing,
      isClosed: () => this.#closed,
      kick: () => this.#wakeup.kick(),
      reportDrops: (count) => this.#reportDrops(count),
      dropped: (count) => this.#ownDropped += count,
      notice: (phase, message, fields) => this.#status(phase, message, fields, "memory"),
      debug: this.#debugLog,
    });
  }

  #newSender(): BatchSender {
    const options = this.#options;
    return new BatchSender({
      clients: this.#clients,
      encoders: redisEncoders(this.keys, {
        maxLen: options.maxLen ?? 1000,
        hostname: options.hostname,
        version: options.version ?? VERSION,
        layout: options.layout,
        removeMarkers: options.removeMarkers,
      }),
      replicasAck: options.replicasAck ?? 0,
      replicasAckTimeoutMs: options.replicasAckTimeoutMs ?? 1000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      reportsLoaded: () => _hangStreamFields !== undefined,
      loadReports: loadCrashEncoding,
      sent: (count) => this.#stats.sent += count,
      dropped: (count) => this.#ownDropped += count,
      error: () => this.#stats.errors++,
      rejected: (error) => this.#noteRejection(error),
      debug: this.#debugLog,
    });
  }

  async #start(): Promise<void> {
    if (this.#spoolProblem !== undefined) {
      const { message, fields } = memoryOnlyMessage(
        this.#spoolProblem,
        this.#policy,
        this.#memoryLimit,
      );
      this.#status("warning", message, fields, "memory");
    }
    const spool = this.#spool;
    if (spool && (spool.count > 0 || spool.recovery.partialLines > 0)) {
      this.#recovered = spool.count + spool.recovery.partialLines;
      this.#accepted += this.#recovered;
      const { records, partialLines } = spool.recovery;
      this.#status(
        partialLines > 0 ? "warning" : "info",
        `Replaying ${records} events left in spool "${spool.dir}" by a previous run` +
          (partialLines > 0 ? `; ${partialLines} partially written line skipped` : ""),
        { recovered: records, skipped_lines: partialLines },
      );
    }
    this.#reportPreviousLoss();
    const connecting = Promise.allSettled(_DB_ROLES.map((db) => connectShared(this.#clients[db])));
    await withTimeout(connecting, this.#options.connectTimeoutMs ?? 5000, "").catch(() => {});
    if (!_DB_ROLES.every((db) => this.#clients[db].status === "ready")) {
      this.#markDown(this.#connectionError ?? new Error("connection timed out"));
    } else {
      this.#debugLog(`connected to ${this.address}`);
    }
    this.#loop = this.#run();
    const interval = this.#options.healthIntervalMs ?? 60_000;
    // health_interval may be longer than setInterval can wait (it would PING every ms).
    this.#healthTimer = setLongInterval(() => this.#healthTick(), interval, { unref: true });
  }

  /** Say what the previous wrapp lost (it was killed with events only in memory), with the seq ranges. */
  #reportPreviousLoss(): void {
    const ledger = this.#ledger;
    if (ledger.unreadable !== undefined) {
      this.#status(
        "warning",
        `Cannot read delivery ledger "${ledger.path}": ${ledger.unreadable}; sequence numbers start again at 1`,
        { error: ledger.unreadable },
      );
    }
    const loss = previousLossMessage(ledger, this.#options.streamName);
    if (loss === undefined) return;
    this.#lostBefore = Number(loss.fields.lost);
    const seq = this.#status("warning", loss.message, loss.fields);
    // Until this report is safe, the loss stays in the ledger for the next wrapp to tell.
    if (seq !== undefined) ledger.reportedAs(seq);
  }

  async #close(): Promise<void> {
    const report = await this.flushWithin(this.#options.closeTimeoutMs ?? 5000, {
      untilStalled: true,
    });
    this.#closing = true;
    this.#healthTimer?.clear();
    if (!report.complete && this.#backlog.inflight) {
      // A pipeline still waiting on a stuck Redis: cut it short, its events go back to the queue.
      // A pooled connection reconnects at once: the other sinks go on with it.
      for (const db of _DB_ROLES) this.#clients[db].disconnect(this.#options.pool !== undefined);
    }
    this.#wakeup.kick();
    await this.#loop;
    this.#sender.stop(); // no batch is being sent any more
    const left = this.#backlog.keepForNextStart();
    if (left.length > 0) {
      this.#ownDropped += left.length;
      this.#status(
        "warning",
        `Redis sink closed with ${left.length} undelivered events and nowhere to keep them: dropped`,
        {
          dropped: left.length,
        },
        false,
      );
    }
    await this.#spool?.close();
    for (const detach of this.#detach) detach();
    const pool = this.#options.pool;
    await this.#ledger.close();
    // No QUIT: every command sent has had its reply (that is what flushed means), so the
    // connections are closed at once instead of after a round trip each.
    await Promise.allSettled(_DB_ROLES.map(async (db) => {
      const client = this.#clients[db];
      if (pool) return await pool.release(client);
      client.disconnect();
    }));
    this.#closed = true;
    this.#progress.notify();
    const stats = this.stats();
    this.#debugLog(
      `closed: received ${stats.received}, sent ${stats.sent}, dropped ${stats.dropped}, errors ${stats.errors}` +
        (stats.spooled > 0 ? `, ${stats.spooled} left in spool "${this.#spool!.dir}"` : ""),
    );
  }

  // ---- the sink's own status events ----

  /**
   * Queue a status event of the sink's own, and tell `onStatus`. `queue`: `true`, in line
   * with the events; `"memory"`, ahead of them in a bounded memory queue that never goes to
   * the spool (for what a full spool would drop or refuse: drop and disk reports); `false`,
   * not at all.
   */
  #status(
    phase: StatusEvent["phase"],
    message: string,
    fields: StatusEvent["fields"],
    queue: boolean | "memory" = true,
  ): number | undefined {
    const event: StatusEvent = {
      kind: "status",
      phase,
      message: this.#redact(message),
      fields: { sink: "redis", address: this.address, ...fields },
      time: now(),
    };
    this.#debugLog(event.message);
    let record: SpooledEvent | undefined;
    if (queue) {
      this.#stats.received++;
      this.#accepted++;
      record = { run: this.#options.runId, pid: this.#pid(), event };
      if (queue === true) this.#backlog.enqueue([record]);
      else this.#backlog.pushNotice(record);
    }
    try {
      this.#options.onStatus?.(event);
    } catch (error) {
      this.#debugLog(`onStatus threw: ${error}`);
    }
    return record?.seq;
  }

  /** Say that events were dropped: at most every 10 s, with the count since the last time. */
  #reportDrops(count: number, force = false): void {
    this.#dropsUnreported += count;
    const time = now();
    if (this.#dropsUnreported === 0 || (!force && time - this.#dropsReportedAt < 10_000)) return;
    this.#dropsReportedAt = time;
    const dropped = this.#dropsUnreported;
    this.#dropsUnreported = 0;
    const spool = this.#spool;
    const writeFailed = spool !== undefined && spool.writeErrors > this.#writeErrorsReported;
    this.#writeErrorsReported = spool?.writeErrors ?? 0;
    const message = dropsMessage(dropped, spool, writeFailed, this.#memoryLimit);
    // In memory: the spool that is full, or failing, would drop or refuse the report itself.
    this.#status("warning", message, { dropped, dropped_total: this.#dropped() }, "memory");
  }

  #noteRejection(error: unknown): void {
    const reason = describeRedisError(error);
    if (this.#rejections.has(reason) || this.#rejections.size >= 20) return;
    this.#rejections.add(reason);
    // Not queued: a rejected status entry would be rejected again, forever.
    this.#status("warning", `${this.#where} rejected an entry: ${reason}`, {
      error: reason,
    }, false);
  }

  #dropped(): number {
    return this.#ownDropped +
      (this.#spool ? this.#spool.droppedRecords + this.#spool.skippedLines : 0);
  }

  // ---- the writer loop ----

  async #run(): Promise<void> {
    // Events queued while this loop sleeps are noted in the ledger by the write that says
    // they are being sent (the backlog defers theirs): one file write less per batch. So
    // the ledger is flushed before every other wait of this loop.
    const backlog = this.#backlog;
    while (!this.#closing) {
      try {
        if (this.#down) {
          this.#ledger.flush();
          if (!(await this.#waitForRedis())) continue;
        }
        const next = await backlog.nextBatch();
        if (next === undefined) {
          this.#ledger.flush();
          if (this.#down) await this.#probe();
          else {
            this.#idle = true;
            await this.#sleep(Infinity);
            this.#idle = false;
          }
          continue;
        }
        backlog.inflight = next;
        if (next.source === "memory") {
          this.#ledger.sending([next.batch[0].seq ?? 0, next.batch.at(-1)!.seq ?? 0]);
        } else {
          this.#ledger.flush();
        }
        const { done, failure } = await this.#sender.send(next.batch);
        backlog.inflight = undefined;
        const delivered = done === next.batch.length ? next.batch : next.batch.slice(0, done);
        if (next.source === "memory") {
          this.#ledger.sent(delivered.map((record) => record.seq)); // one write for both
        } else if (next.source === "spool") {
          this.#spool!.ack(done);
          backlog.drainOverflow(); // delivered segments gave disk space back
        } else {
          backlog.release(delivered);
        }
        if (failure === undefined) {
          if (this.#down) this.#markUp(done);
        } else {
          this.#stats.errors++;
          backlog.giveBack(next, done);
          this.#markDown(failure);
        }
      } catch (error) {
        // Not expected (a spool read failing, a bug): count, keep the events, wait, go on.
        const inflight = backlog.inflight;
        if (inflight) backlog.giveBack(inflight, 0);
        if (inflight?.source === "memory") this.#ledger.sending(undefined);
        backlog.inflight = undefined;
        this.#stats.errors++;
        this.#debugLog(`writer: ${error}`);
        this.#ledger.flush();
        await this.#sleep(1000);
      }
      this.#progress.notify();
    }
    this.#idle = false;
    this.#ledger.flush();
  }

  // ---- down and up ----

  #markDown(reason: unknown): void {
    this.#failure = reason;
    this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, 100), 5000);
    const lagOnly = reason instanceof ReplicaAckError;
    if (this.#down && !lagOnly) this.#downForLagOnly = false;
    if (!this.#down) {
      this.#downForLagOnly = lagOnly;
      this.#down = true;
      this.#downSince = now();
      this.#droppedAtDown = this.#dropped();
      if (this.#closing) return; // close() cut the connections itself
      const where = this.#spool ? `spool "${this.#spool.dir}"` : "memory";
      const what = lagOnly ? "does not replicate in time" : "is unreachable";
      this.#status(
        "warning",
        `${this.#where} ${what}: ${this.#reason()}; events wait in ${where}`,
        { error: this.#reason() },
      );
    }
    this.#backlog.spillMemory();
    this.#progress.notify();
  }

  /** Redis answered again; `justSent` events went out with the batch that proved it. */
  #markUp(justSent: number): void {
    if (!this.#down) return;
    this.#down = false;
    this.#backoffMs = 0;
    const downMs = Math.round(now() - this.#downSince);
    const waited = justSent + this.#backlog.memory.length + (this.#spool?.count ?? 0);
    const dropped = this.#dropped() - this.#droppedAtDown;
    this.#reportDrops(0, true); // what the 10 s limit held back, so the total is known now
    const what = this.#downForLagOnly ? "did not replicate in time" : "was unreachable";
    this.#status(
      "warning",
      `${this.#where} ${what} for ${(downMs / 1000).toFixed(1)}s; ${waited} events waited` +
        (dropped > 0 ? `; ${dropped} dropped` : ""),
      { down_ms: downMs, queued: waited, dropped },
    );
    this.#progress.notify();
  }

  /** Back off, then wait until every connection is ready. False when closing. */
  async #waitForRedis(): Promise<boolean> {
    await this.#sleep(this.#backoffMs);
    while (!this.#closing) {
      if (_DB_ROLES.every((db) => this.#clients[db].status === "ready")) return true;
      this.#downForLagOnly = false; // a connection is gone too
      for (const db of _DB_ROLES) {
        const client = this.#clients[db];
        if (client.status === "end") client.connect().catch(() => {});
      }
      await this.#sleep(250);
    }
    return false;
  }

  /** Nothing to send while down: PING decides whether Redis is back. */
  async #probe(): Promise<void> {
    try {
      await withTimeout(
        Promise.all(_DB_ROLES.map((db) => this.#clients[db].ping())),
        2000,
        "no answer to PING",
      );
      this.#markUp(0);
    } catch (error) {
      this.#markDown(error);
    }
  }

  async #healthTick(): Promise<void> {
    if (this.#down || this.#closing) return;
    try {
      const [pid, time] = [String(this.#pid()), String(Math.floor(now()))];
      await withTimeout(
        Promise.all([
          this.#clients.logs.ping(),
          this.#clients.values.ping(),
          this.#clients.state.hset(this.keys.state, "heartbeat", time, "pid", pid),
        ]),
        5000,
        "no answer to PING",
      );
    } catch (error) {
      if (!this.#closing) this.#markDown(error);
    }
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

  #reason(): string {
    return describeRedisError(this.#connectionError ?? this.#failure);
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

  /** Sleep `ms` or until kicked (new events, a connection ready, close). */
  #sleep(ms: number): Promise<void> {
    if (this.#closing) return Promise.resolve();
    return this.#wakeup.sleep(ms);
  }
}
