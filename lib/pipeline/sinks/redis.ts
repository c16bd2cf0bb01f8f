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

import { RespClient, type RespClientOptions } from "./resp_client.ts";
import {
  describeConnectFailure,
  describeEndpoint,
  describeRedisError,
  redisConnectOptions,
} from "./redis_connection.ts";
import type { RedisPool } from "./redis_pool.ts";
import type { crashStreamFields } from "./encode/crash.ts";
import type { hangStreamFields } from "./encode/hang.ts";
import {
  encodeEvent,
  type Event,
  type EventEncoders,
  now,
  type StatusEvent,
} from "../../core/event.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { VERSION } from "../../core/version.ts";
import { emptyStats, type Sink, type SinkStats } from "./sink.ts";
import type { RedisLayout } from "../../core/config/config.ts";
import { goEndRun, goExitCode, goExitLine, goLineText, goNewRun } from "./go_layout.ts";
import { DEFAULT_SPOOL_MAX_BYTES, DiskSpool, type SpoolPolicy } from "./disk_spool.ts";
import { type LongTimer, setLongInterval } from "../../core/long_timeout.ts";
import { countRanges, DeliveryLedger, formatRanges } from "./delivery_ledger.ts";

// Crash and hang reports (with gdb, the core search and ELF reading under them) are loaded
// with the first crash or hang event to encode, not at every start.
let _crashStreamFields: typeof crashStreamFields | undefined;
let _hangStreamFields: typeof hangStreamFields | undefined;

/** Load what encodes crash and hang events: {@linkcode redisEncoders} needs it before it encodes one. */
export async function loadCrashEncoding(): Promise<void> {
  _crashStreamFields ??= (await import("./encode/crash.ts")).crashStreamFields;
  _hangStreamFields ??= (await import("./encode/hang.ts")).hangStreamFields;
}

/** The three databases the sink writes, by role. */
export interface RedisDbs {
  /** Streams: logs, status, crash, trace. Default 1. */
  logs: number;
  /** Marker counters and values. Default 2. */
  values: number;
  /** The state hash (and the control stream). Default 5. */
  state: number;
}

/** Which database a command goes to. */
export type RedisDbRole = keyof RedisDbs;

/** The layout of the original wrapp. */
export const DEFAULT_REDIS_DBS: Readonly<RedisDbs> = { logs: 1, values: 2, state: 5 };

/** Every key of one service `name`. */
export interface RedisKeys {
  /** Stream of stdout lines (DB logs). */
  info: string;
  /** Stream of stderr lines (DB logs). */
  error: string;
  /** Stream of status entries (DB logs). */
  status: string;
  /** Stream of crash reports (DB logs). */
  crash: string;
  /** Stream of syscall anomalies, summaries and memprof snapshots (DB logs). */
  trace: string;
  /** Hash with pid, run, status, version, host, heartbeat (DB state). */
  state: string;
  /** Stream of commands to the supervisor (DB state). */
  control: string;
  /** String holding marker `key` (DB values). */
  value(key: string): string;
}

/** The keys of service `name`: `logs:app:<name>:info`, `wrapp:<name>:state`, … */
export function redisKeys(name: string): RedisKeys {
  return {
    info: `logs:app:${name}:info`,
    error: `logs:app:${name}:error`,
    status: `logs:app:${name}:status`,
    crash: `logs:app:${name}:crash`,
    trace: `logs:app:${name}:trace`,
    state: `wrapp:${name}:state`,
    control: `wrapp:${name}:control`,
    value: (key) => `wrapp:${name}:${key}`,
  };
}

/** An event with the run and pid it belongs to: what the queue and the spool hold. */
export interface SpooledEvent {
  /** Run id of the wrapp process that received it. */
  run: string;
  /** Child pid when it was received. */
  pid: number;
  /** The event. */
  event: Event;
  /**
   * Its sequence number for this service (`seq` in its entries), given when the sink
   * accepted it; continues across restarts of wrapp (see ./delivery_ledger.ts).
   */
  seq?: number;
}

/**
 * Options for {@linkcode RedisSink.connect}.
 *
 * @example A service's lines into a local Redis
 * ```ts
 * import type { RedisSinkOptions } from "@wrapp/wrapp";
 *
 * const options: RedisSinkOptions = {
 *   host: "127.0.0.1",
 *   port: 6379,
 *   streamName: "api",
 *   runId: crypto.randomUUID(),
 *   hostname: Deno.hostname(),
 *   pid: () => Deno.pid,
 *   maxLen: 10_000,
 * };
 * ```
 */
export interface RedisSinkOptions {
  /** Redis host name or address. */
  host: string;
  /** Redis port. */
  port: number;
  /** ACL user name. Default: none (the `default` user). */
  username?: string;
  /** Password. Never appears in any message. */
  password?: string;
  /** Connect with TLS. Default false. */
  tls?: boolean;
  /**
   * Redis Sentinels (`"host:port"`) that name the master of `masterName`; `host` and `port`
   * are then not used. Every reconnect asks them again, so writing goes on with the new
   * master after a failover (events wait in the spool meanwhile). Default: none.
   */
  sentinels?: string[];
  /** The master's name at the Sentinels. Required with `sentinels`. */
  masterName?: string;
  /** ACL user name for the Sentinels. Default: none. */
  sentinelUsername?: string;
  /** Password for the Sentinels. Never appears in any message. Default: none. */
  sentinelPassword?: string;
  /**
   * Replicas that must acknowledge each batch (`WAIT <replicasAck> <replicasAckTimeoutMs>` at
   * the end of every pipeline) before its events count as sent and leave the memory queue or
   * the spool. A batch fewer replicas acknowledge is sent again later, as after a lost
   * connection: duplicates are possible, a loss when the master dies is not. Default 0.
   */
  replicasAck?: number;
  /** How long each `WAIT` waits for the replicas, in ms. Default 1000. */
  replicasAckTimeoutMs?: number;
  /** The service name in the keys (`logs:app:<streamName>:info`). */
  streamName: string;
  /** Run id written in every entry. */
  runId: string;
  /** Host name written in every entry and in the state hash. */
  hostname: string;
  /** The current child pid (it changes on restarts); read once per written batch. */
  pid: () => number;
  /** Databases by role. Default {@linkcode DEFAULT_REDIS_DBS}. */
  dbs?: Partial<RedisDbs>;
  /** Approximate stream length cap (`MAXLEN ~`). Default 1000. */
  maxLen?: number;
  /**
   * What entries look like; see the module documentation. `go`: what a consumer of the Go
   * wrapp reads. `wrapp` (default here; a config's `[redis] layout` defaults to `go`): the
   * richer layout, for `wrapp serve`/`trace`/`record` too, which have no Go counterpart.
   */
  layout?: RedisLayout;
  /** In the `go` layout, remove markers from the text (off when `[output] markers = false`). Default true. */
  removeMarkers?: boolean;
  /** How often the connections are PINGed and the state heartbeat written, in ms. Default 60000. */
  healthIntervalMs?: number;
  /** Events the memory queue holds before events go to the spool (or are dropped without one). Default 100000. */
  memoryQueueEvents?: number;
  /** Folder of the disk spool. Default: none (events wait in memory only). */
  spoolDir?: string;
  /** Size limit of the spool. Default 256 MiB. */
  spoolMaxBytes?: number;
  /**
   * What happens when the limit (spool, or memory without a spool) is reached.
   * `drop_oldest` (default): the oldest waiting events are deleted and counted as dropped.
   * `block`: nothing is dropped; {@linkcode RedisSink.write} still accepts everything (it
   * must never stall the child's output), and {@linkcode RedisSink.waitForCapacity} stays
   * pending until there is room again — the output pipeline awaits it before reading more,
   * so the child ends up blocked in write(2) on a full pipe, as with a slow terminal.
   */
  policy?: SpoolPolicy;
  /** Most events per pipeline. Default 2000. */
  batchEvents?: number;
  /** How long {@linkcode RedisSink.connect} and each connection attempt wait, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * A pipeline without every reply after this long fails: its connection is dropped and
   * reopened, and the unacknowledged rest of the batch is sent again. In ms. Default 10000.
   */
  commandTimeoutMs?: number;
  /** How long {@linkcode RedisSink.close} waits without any delivery before leaving the rest in the spool, in ms. Default 5000. */
  closeTimeoutMs?: number;
  /** Version written in the state hash. Default: wrapp's. */
  version?: string;
  /** Called with each status event the sink makes itself (outage, recovery, replay, drops), e.g. to show it on the console. */
  onStatus?: (event: StatusEvent) => void;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /**
   * Share connections with the other sinks of this pool (services of one `wrapp up`): one
   * per server, user and database. The last sink to close closes them. Default: the sink's own.
   */
  pool?: RedisPool;
}

/** Counters of a {@linkcode RedisSink}: the common ones and where events wait. */
export interface RedisSinkStats extends SinkStats {
  /** Events waiting in memory (including a batch being sent). */
  queued: number;
  /** Events waiting in the spool. */
  spooled: number;
  /** Size of the spool files. */
  spoolBytes: number;
  /** Events found in the spool at start (left by a previous process); `sent` includes them, `received` does not. */
  recovered: number;
  /** Events the previous process lost (killed while they were only in memory), reported at start. */
  lostBefore: number;
  /** The highest sequence number given to an event so far (continuing a previous process's). */
  seq: number;
  /** Whether Redis is currently reachable. */
  connected: boolean;
}

/** What {@linkcode RedisSink.flushWithin} achieved. */
export interface FlushReport {
  /** Every event accepted before the call is in Redis, counted as dropped, or fsynced in the spool. */
  complete: boolean;
  /** Events not yet in Redis (in memory and in the spool), now. */
  waiting: number;
  /** Of these, events in the spool. */
  spooled: number;
}

/** Events written to the master but not yet confirmed by enough replicas (`WAIT`). */
interface _Unconfirmed {
  /** `seq` of the first of them. */
  firstSeq: number;
  /** `seq` of the last of them. */
  lastSeq: number;
  /** How many. */
  count: number;
  /** The connection (socket) of each database that wrote them. */
  streams: Map<RedisDbRole, unknown>;
}

interface _Inflight {
  source: "memory" | "spool" | "overflow" | "notices";
  /** With source `notices`: how many leading events are notices; the rest came from memory. */
  notices?: number;
  batch: SpooledEvent[];
}

const _DB_ROLES: readonly RedisDbRole[] = ["logs", "values", "state"];
// The sink's own status events wait in memory, never in the (maybe full) spool: at most this many.
const _MAX_NOTICES = 1000;
// Errors that make a spool folder unusable for now (full, read-only, failing disk) rather than misconfigured.
const _DISK_FAULTS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/** A full, read-only or failing disk (the error or its cause says so), not a refusal. */
function _isDiskFault(error: unknown): boolean {
  const code = ((error as Error).cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && _DISK_FAULTS.has(code);
}
// Status phases that change the state hash, and the `status` they set.
const _STATE_OF_PHASE: Partial<Record<StatusEvent["phase"], string>> = {
  start: "running",
  restart: "restarting",
  exit: "exited",
};
// Where an XADD holds the values of run, pid and host.
const _OVERRIDABLE = new Map([["run", 12], ["pid", 14], ["host", 16]]);
// Status and crash fields that would shadow an entry's own fields are written as `field_<name>`.
const _RESERVED = new Set(["message", "ts", "phase", "detail", "separator", "output", "seq"]);
// Reply errors worth retrying later: Redis is starting, busy, full, read-only, or we are not let in.
const _RETRYABLE_REPLY =
  /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOAUTH|WRONGPASS|NOPERM|OOM|MISCONF|NOREPLICAS)\b/;

/**
 * Connect `client`, or, when another sink sharing it ({@linkcode RedisSinkOptions.pool})
 * already does, wait for that connection to be ready or fail.
 */
function _connect(client: RespClient): Promise<void> {
  if (client.status === "wait" || client.status === "end") return client.connect();
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      client.off("ready", done);
      client.off("error", done);
      client.off("end", done);
      if (error === undefined && client.status === "ready") resolve();
      else reject(error ?? new Error("connection closed"));
    };
    client.on("ready", done);
    client.on("error", done);
    client.on("end", done);
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
  // "Redis at "host:port"", or "Redis master "m" via Sentinel …": what messages name.
  readonly #where: string;
  readonly #memoryLimit: number;
  readonly #batchEvents: number;
  readonly #policy: SpoolPolicy;
  readonly #debugLog: DebugLog;
  readonly #encoders: EventEncoders<RedisEncoder>;
  readonly #spool: DiskSpool<SpooledEvent> | undefined;
  readonly #ledger: DeliveryLedger;
  readonly #spoolProblem: string | undefined;
  readonly #clients: Record<RedisDbRole, RespClient>;
  readonly #memory = new _Queue<SpooledEvent>();
  // Policy block, disk full: events newer than the spool that it could not take yet.
  readonly #overflow = new _Queue<SpooledEvent>();
  readonly #notices = new _Queue<SpooledEvent>();
  #diskFullSince: number | undefined;
  #inflight: _Inflight | undefined;
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
  // replicas_ack: events Redis took that too few replicas confirmed, and on which connections.
  #unconfirmed: _Unconfirmed | undefined;
  // The current outage is only replicas too slow for replicas_ack (Redis itself answered).
  #downForLagOnly = false;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  // The batch being sent: when it is stuck, and what to do then (see #watchSend).
  #sendWatch: { deadline: number; onStuck: () => void } | undefined;
  #sendTimer: ReturnType<typeof setTimeout> | undefined;
  // The writer waits for events (nothing queued, Redis up): a kick sends what comes next.
  #idle = false;
  #progress: (() => void)[] = [];
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
    this.#batchEvents = options.batchEvents ?? 2000;
    this.#policy = options.policy ?? "drop_oldest";
    const debug = options.debug ?? silentDebug;
    this.#debugLog = (message) => debug(`redis: ${this.#redact(message)}`);
    this.#encoders = redisEncoders(this.keys, {
      maxLen: options.maxLen ?? 1000,
      hostname: options.hostname,
      version: options.version ?? VERSION,
      layout: options.layout,
      removeMarkers: options.removeMarkers,
    });
    this.#spool = spool;
    this.#ledger = ledger;
    const dbs = { ...DEFAULT_REDIS_DBS, ...options.dbs };
    this.#clients = {
      logs: this.#client(dbs.logs),
      values: this.#client(dbs.values),
      state: this.#client(dbs.state),
    };
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
    _validate(options);
    let spool: DiskSpool<SpooledEvent> | undefined;
    let spoolProblem: string | undefined;
    if (options.spoolDir !== undefined) {
      try {
        spool = await DiskSpool.open<SpooledEvent>(options.spoolDir, {
          maxBytes: options.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES,
          policy: options.policy,
          debug: options.debug && ((message) => options.debug!(`redis: ${message}`)),
        });
      } catch (error) {
        if (!_isDiskFault(error)) throw error;
        spoolProblem = (error as Error).message;
      }
    }
    let ledger: DeliveryLedger;
    try {
      ledger = DeliveryLedger.open(spoolProblem === undefined ? options.spoolDir : undefined);
    } catch (error) {
      if (!_isDiskFault(error)) {
        await spool?.close();
        throw error;
      }
      // A disk that takes no ledger: what a kill -9 loses then shows only as a seq gap.
      ledger = DeliveryLedger.open(undefined);
    }
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
      this.#enqueue(records);
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
    for (;;) {
      const delivered = this.#stats.sent + this.#dropped();
      if (delivered >= target) return this.#report(true);
      if (options.untilStalled && delivered > done) {
        done = delivered;
        deadline = performance.now() + timeoutMs;
      }
      if (this.#down && this.#spool === undefined) return this.#report(false); // waiting in memory
      if (
        this.#down && this.#memory.length === 0 && this.#overflow.length === 0 &&
        (this.#inflight === undefined || this.#inflight.source === "spool")
      ) {
        // The sink's own notices stay in memory (see #status); close() spools them.
        await this.#spool!.sync();
        return this.#report(true);
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.#closed) return this.#report(false);
      await this.#waitProgress(Math.min(left, 1000));
    }
  }

  /**
   * Resolve when there is room for more events: at once with `drop_oldest`; with `block`,
   * once the spool (or, without one, the memory queue) is below its limit again. The
   * output pipeline awaits this before reading more of the child's output.
   */
  async waitForCapacity(): Promise<void> {
    while (this.#policy === "block" && !this.#closing && !this.hasCapacity) {
      await this.#waitProgress(1000);
      this.#drainOverflow(); // the disk may have room again while Redis is still away
    }
  }

  /**
   * Whether the spool (or, without one, the memory queue) is below its limit and, with
   * `block`, the disk took every event handed to the spool.
   */
  get hasCapacity(): boolean {
    return this.#spool
      ? !this.#spool.full && this.#overflow.length === 0
      : this.#memory.length < this.#memoryLimit;
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
        await _timeout(
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
      queued: this.#memory.length + this.#overflow.length + this.#notices.length +
        (this.#inflight && this.#inflight.source !== "spool" ? this.#inflight.batch.length : 0),
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
    const options: RespClientOptions = {
      ...redisConnectOptions(this.#options),
      db,
      connectionName: this.#options.pool ? "wrapp" : `wrapp:${this.#options.streamName}`,
      // The client queues nothing while disconnected (the sink has its own queue and
      // spool), and fails the commands awaiting replies as soon as the socket closes.
      connectTimeout: this.#options.connectTimeoutMs ?? 5000,
      // No timer per command: #send() times whole pipelines instead.
      // Reconnect forever: 100 ms, 200 ms, … capped at 5 s.
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 10), 5000),
    };
    const pool = this.#options.pool;
    const client = pool
      ? pool.acquire(
        { ...this.#options, db },
        () => new RespClient(options),
      )
      : new RespClient(options);
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
      this.#kick();
    };
    client.on("error", onError);
    client.on("ready", onReady);
    if (pool) {
      this.#detach.push(() => {
        client.off("error", onError);
        client.off("ready", onReady);
      });
    }
    return client;
  }

  async #start(): Promise<void> {
    if (this.#spoolProblem !== undefined) {
      const limit = this.#policy === "block"
        ? `up to ${this.#memoryLimit} events, then the service's output is held back`
        : `up to ${this.#memoryLimit} events, then the oldest are dropped`;
      this.#status(
        "warning",
        `${this.#spoolProblem}: events wait in memory only (${limit}); what waits is lost if wrapp is killed`,
        { error: this.#spoolProblem, spool: "none" },
        "memory",
      );
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
    const connecting = Promise.allSettled(_DB_ROLES.map((db) => _connect(this.#clients[db])));
    await _timeout(connecting, this.#options.connectTimeoutMs ?? 5000, "").catch(() => {});
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
    if (ledger.lost.length === 0) return;
    const lost = countRanges(ledger.lost);
    this.#lostBefore = lost;
    const ranges = formatRanges(ledger.lost);
    const sending = ledger.lostSending;
    const maybe = sending ? countRanges([sending]) : 0;
    const seq = this.#status(
      "warning",
      `The previous wrapp of "${this.#options.streamName}" ended before ${lost} events reached Redis or the spool: they are lost (seq ${ranges})` +
        (sending
          ? `; of these, the ${maybe} of seq ${
            formatRanges([sending])
          } were being sent and may be in Redis after all`
          : ""),
      {
        lost,
        lost_seq: ranges,
        lost_first: ledger.lost[0][0],
        lost_last: ledger.lost.at(-1)![1],
        ...(sending
          ? { maybe_delivered: maybe, maybe_delivered_seq: formatRanges([sending]) }
          : {}),
      },
    );
    // Until this report is safe, the loss stays in the ledger for the next wrapp to tell.
    if (seq !== undefined) ledger.reportedAs(seq);
  }

  async #close(): Promise<void> {
    const report = await this.flushWithin(this.#options.closeTimeoutMs ?? 5000, {
      untilStalled: true,
    });
    this.#closing = true;
    this.#healthTimer?.clear();
    if (!report.complete && this.#inflight) {
      // A pipeline still waiting on a stuck Redis: cut it short, its events go back to the queue.
      // A pooled connection reconnects at once: the other sinks go on with it.
      for (const db of _DB_ROLES) this.#clients[db].disconnect(this.#options.pool !== undefined);
    }
    this.#kick();
    await this.#loop;
    clearTimeout(this.#sendTimer); // no batch is being sent any more
    this.#sendTimer = undefined;
    // What waits in memory is older than the spool, the overflow newer.
    let left = [...this.#notices.takeAll(), ...this.#memory.takeAll()];
    let kept = false;
    if (left.length > 0 && this.#spool) {
      try {
        this.#spool.prepend(left); // what it has to drop, it counts itself
        kept = true;
      } catch (error) {
        this.#debugLog(String((error as Error).message));
      }
    }
    const overflow = this.#overflow.takeAll();
    this.#release(left); // spooled, or counted as dropped just below
    if (overflow.length > 0) {
      const written = this.#spool!.appendUntilFull(overflow);
      left = kept ? overflow.slice(written) : [...left, ...overflow.slice(written)];
      kept = left.length === 0;
      this.#release(overflow); // the same
    }
    if (left.length > 0 && !kept) {
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
    this.#notifyProgress();
    const stats = this.stats();
    this.#debugLog(
      `closed: received ${stats.received}, sent ${stats.sent}, dropped ${stats.dropped}, errors ${stats.errors}` +
        (stats.spooled > 0 ? `, ${stats.spooled} left in spool "${this.#spool!.dir}"` : ""),
    );
  }

  // ---- queueing ----

  /** Put records at the end of the queue: memory, unless order or limits send them to the spool. */
  #enqueue(records: SpooledEvent[]): void {
    const spool = this.#spool;
    if (
      spool &&
      (spool.count > 0 || this.#overflow.length > 0 || this.#down ||
        this.#memory.length + records.length > this.#memoryLimit)
    ) {
      // The spool only ever holds events newer than those in memory, so order holds.
      if (this.#policy === "block") {
        // Nothing is dropped: what the disk cannot take waits in memory, and
        // waitForCapacity() holds the service's output back until there is room. Held in
        // the ledger until the spool or Redis has them.
        let held = this.#ledger.nextHeld(records.length);
        for (const record of records) record.seq = held++;
        this.#overflow.push(records);
        this.#drainOverflow();
        if (!this.#down) this.#kick();
        return;
      }
      // In the spool (page cache at once) they survive a kill -9: numbered, not held.
      let seq = this.#ledger.next(records.length);
      for (const record of records) record.seq = seq++;
      const dropped = spool.append(records);
      if (dropped > 0) this.#reportDrops(dropped);
      if (!this.#down) this.#kick(); // while down the writer backs off; new events must not hurry it
      return;
    }
    // Only in memory: held in the ledger until they are in Redis, spooled or counted. A
    // sleeping writer wakes up to send them, and its write of the ledger covers them too.
    let seq = this.#ledger.nextHeld(records.length, { defer: this.#idle && !this.#closing });
    for (const record of records) record.seq = seq++;
    this.#memory.push(records);
    if (!spool && this.#policy === "drop_oldest" && this.#memory.length > this.#memoryLimit) {
      const gone = this.#memory.take(this.#memory.length - this.#memoryLimit);
      this.#release(gone);
      const dropped = gone.length;
      this.#ownDropped += dropped;
      this.#reportDrops(dropped);
    }
    if (!this.#down) this.#kick();
  }

  /**
   * Policy `block`: move what waits in the overflow to the spool, as far as the disk takes
   * it, and say once when the disk is full and when it has room again.
   */
  #drainOverflow(): void {
    const spool = this.#spool;
    if (spool === undefined || this.#overflow.length === 0 || this.#closed) return;
    const waiting = this.#overflow.takeAll();
    const written = spool.appendUntilFull(waiting);
    this.#release(waiting.slice(0, written));
    if (written < waiting.length) {
      this.#overflow.unshift(waiting.slice(written));
      if (this.#diskFullSince === undefined) {
        this.#diskFullSince = now();
        this.#status(
          "warning",
          `${spool.lastWriteError}: the service's output is held back until there is room (policy block)`,
          { error: spool.lastWriteError ?? "", waiting: this.#overflow.length },
          "memory",
        );
      }
    } else if (this.#diskFullSince !== undefined) {
      const heldMs = Math.round(now() - this.#diskFullSince);
      this.#diskFullSince = undefined;
      this.#status(
        "info",
        `Spool "${spool.dir}" has room again after ${(heldMs / 1000).toFixed(1)}s`,
        { held_ms: heldMs },
        "memory",
      );
    }
  }

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
      if (queue === true) {
        this.#enqueue([record]);
      } else {
        this.#notices.push([record]);
        if (this.#notices.length > _MAX_NOTICES) {
          this.#ownDropped += this.#notices.take(this.#notices.length - _MAX_NOTICES).length;
        }
        if (!this.#down) this.#kick();
      }
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
    const message = writeFailed
      ? `Redis sink dropped ${dropped} waiting events: ${spool.lastWriteError}`
      : `Redis sink dropped the ${dropped} oldest waiting events: ` +
        (spool
          ? `spool "${spool.dir}" is full (${spool.maxBytes} bytes)`
          : `the memory queue is full (${this.#memoryLimit} events)`);
    // In memory: the spool that is full, or failing, would drop or refuse the report itself.
    this.#status("warning", message, { dropped, dropped_total: this.#dropped() }, "memory");
  }

  /** `records` left the memory queue for Redis, the spool or a counted drop: no longer held. */
  #release(records: readonly SpooledEvent[]): void {
    if (records.length > 0) this.#ledger.release(records.map((record) => record.seq));
  }

  #dropped(): number {
    return this.#ownDropped +
      (this.#spool ? this.#spool.droppedRecords + this.#spool.skippedLines : 0);
  }

  // ---- the writer loop ----

  async #run(): Promise<void> {
    // Events queued while this loop sleeps are noted in the ledger by the write that says
    // they are being sent (#enqueue defers theirs): one file write less per batch. So the
    // ledger is flushed before every other wait of this loop.
    while (!this.#closing) {
      try {
        if (this.#down) {
          this.#ledger.flush();
          if (!(await this.#waitForRedis())) continue;
        }
        const next = await this.#nextBatch();
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
        this.#inflight = next;
        if (next.source === "memory") {
          this.#ledger.sending([next.batch[0].seq ?? 0, next.batch.at(-1)!.seq ?? 0]);
        } else {
          this.#ledger.flush();
        }
        const { done, failure } = await this.#send(next.batch);
        this.#inflight = undefined;
        const delivered = done === next.batch.length ? next.batch : next.batch.slice(0, done);
        if (next.source === "memory") {
          this.#ledger.sent(delivered.map((record) => record.seq)); // one write for both
        } else if (next.source === "spool") {
          this.#spool!.ack(done);
          this.#drainOverflow(); // delivered segments gave disk space back
        } else {
          this.#release(delivered);
        }
        if (failure === undefined) {
          if (this.#down) this.#markUp(done);
        } else {
          this.#stats.errors++;
          this.#giveBack(next, done);
          this.#markDown(failure);
        }
      } catch (error) {
        // Not expected (a spool read failing, a bug): count, keep the events, wait, go on.
        const inflight = this.#inflight;
        if (inflight) this.#giveBack(inflight, 0);
        if (inflight?.source === "memory") this.#ledger.sending(undefined);
        this.#inflight = undefined;
        this.#stats.errors++;
        this.#debugLog(`writer: ${error}`);
        this.#ledger.flush();
        await this.#sleep(1000);
      }
      this.#notifyProgress();
    }
    this.#idle = false;
    this.#ledger.flush();
  }

  /** Put the undelivered rest of a batch (from index `done`) back where it came from. */
  #giveBack(inflight: _Inflight, done: number): void {
    const rest = inflight.batch.slice(done);
    if (inflight.source === "memory") this.#memory.unshift(rest);
    else if (inflight.source === "overflow") this.#overflow.unshift(rest);
    else if (inflight.source === "notices") {
      const notices = Math.max(0, (inflight.notices ?? 0) - done);
      this.#memory.unshift(rest.slice(notices));
      this.#notices.unshift(rest.slice(0, notices));
    }
  }

  async #nextBatch(): Promise<_Inflight | undefined> {
    // The sink's own notices first: they say what happened to the events that follow.
    // Memory fills the rest of the batch: the first batch after an outage must make room there.
    if (this.#notices.length > 0) {
      const batch = this.#notices.take(this.#batchEvents);
      const notices = batch.length;
      for (const record of this.#memory.take(this.#batchEvents - notices)) batch.push(record);
      return { source: "notices", batch, notices };
    }
    if (this.#memory.length > 0) {
      return { source: "memory", batch: this.#memory.take(this.#batchEvents) };
    }
    if (this.#spool && this.#spool.count > 0) {
      const batch = await this.#spool.readBatch(this.#batchEvents);
      if (batch.length > 0) return { source: "spool", batch };
    }
    // Nothing, or only unreadable lines (now counted) while memory may have filled meanwhile.
    if (this.#memory.length > 0) {
      return { source: "memory", batch: this.#memory.take(this.#batchEvents) };
    }
    if (this.#overflow.length > 0 && (this.#spool?.count ?? 0) === 0) {
      return { source: "overflow", batch: this.#overflow.take(this.#batchEvents) };
    }
    return undefined;
  }

  /**
   * Send a batch as one pipeline per DB. Returns how many leading events are done
   * (delivered, or rejected for good) and, when the rest must be retried, why.
   */
  async #send(batch: readonly SpooledEvent[]): Promise<{ done: number; failure?: unknown }> {
    const written = this.#unconfirmed;
    this.#unconfirmed = undefined;
    if (written && this.#isUnconfirmed(batch, written)) {
      const failure = await this.#confirm(written);
      if (failure !== undefined) return { done: 0, failure };
      this.#stats.sent += written.count;
      if (written.count === batch.length) return { done: written.count };
      const rest = await this.#send(batch.slice(written.count));
      return { done: written.count + rest.done, failure: rest.failure };
    }
    const pipelines = new Map<
      RedisDbRole,
      { pipeline: ReturnType<RespClient["pipeline"]>; owners: number[] }
    >();
    const firstOp = new Array<RedisDbRole>(batch.length);
    const rejected = new Map<number, unknown>();
    if (
      _hangStreamFields === undefined &&
      batch.some((record) => record.event?.kind === "crash" || record.event?.kind === "hang")
    ) {
      await loadCrashEncoding();
    }
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      let ops: RedisCommand[];
      try {
        ops = encodeEvent(this.#encoders, record.event)(record);
      } catch (error) {
        // A spooled line of the wrong shape (another version, a hand edit): give up on it alone.
        this.#stats.errors++;
        rejected.set(i, error);
        this.#debugLog(`cannot encode ${JSON.stringify(record).slice(0, 200)}: ${error}`);
        continue;
      }
      // No command (a line the go layout drops): nothing can fail, it counts as sent.
      if (ops.length === 0) continue;
      firstOp[i] = ops[0][0];
      for (const [db, command, ...args] of ops) {
        let entry = pipelines.get(db);
        if (entry === undefined) {
          entry = { pipeline: this.#clients[db].pipeline(), owners: [] };
          pipelines.set(db, entry);
        }
        entry.pipeline.call(command, args);
        entry.owners.push(i);
      }
    }
    const entries = [...pipelines.entries()];
    const replicas = this.#options.replicasAck ?? 0;
    const waitMs = this.#options.replicasAckTimeoutMs ?? 1000;
    if (replicas > 0) {
      // WAIT covers every write this connection made before it: the whole pipeline.
      for (const [, entry] of entries) {
        entry.pipeline.call("WAIT", [String(replicas), String(waitMs)]);
      }
    }
    const execs = entries.map(([, entry]) => entry.pipeline.exec());
    let stuck: Error | undefined;
    const timeoutMs = (this.#options.commandTimeoutMs ?? 10_000) + (replicas > 0 ? waitMs : 0);
    this.#watchSend(timeoutMs, () => {
      // A hung Redis: reconnecting rejects every command still waiting.
      stuck = new Error(`no reply within ${timeoutMs} ms`);
      for (const [db] of entries) this.#clients[db].disconnect(true);
    });
    const settled = await Promise.allSettled(execs);
    this.#sendWatch = undefined;
    let cut = batch.length;
    let failure: unknown;
    // Anything but replicas too slow: a lost connection, a command to retry.
    let troubled = false;
    settled.forEach((result, k) => {
      const [db, { owners }] = entries[k];
      if (result.status === "rejected" || result.value === null) {
        troubled = true;
        cut = Math.min(cut, owners[0]);
        failure ??= result.status === "rejected" ? result.reason : new Error("pipeline aborted");
        return;
      }
      const replies = result.value;
      if (replicas > 0) {
        // Fewer replicas than asked hold these writes: a failover now could lose them, so
        // the pipeline's events are not done yet (the first of them is its first owner).
        const [waitError, acked] = replies[replies.length - 1] ?? [];
        if (waitError || Number(acked) < replicas) {
          if (waitError) troubled = true;
          if (owners[0] < cut) {
            cut = owners[0];
            failure = waitError ?? new ReplicaAckError(Number(acked), replicas, waitMs);
          }
        }
      }
      replies.forEach(([error], j) => {
        if (j >= owners.length) return; // the WAIT
        if (error === null) return;
        if (_isRetryable(error)) {
          troubled = true;
          if (owners[j] < cut) {
            cut = owners[j];
            failure = error;
          }
        } else {
          this.#stats.errors++;
          if (firstOp[owners[j]] === db) rejected.set(owners[j], error);
          this.#noteRejection(error);
        }
      });
    });
    let given = 0;
    for (const index of rejected.keys()) if (index < cut) given++;
    this.#ownDropped += given;
    this.#stats.sent += cut - given;
    if (
      failure instanceof ReplicaAckError && !troubled && given === rejected.size &&
      batch[cut].seq !== undefined && batch.at(-1)!.seq !== undefined
    ) {
      // Every command of the rest went through; only the replicas lag. Next time, on the
      // same connections, asking WAIT again is enough: no second copy in the streams.
      this.#unconfirmed = {
        firstSeq: batch[cut].seq!,
        lastSeq: batch.at(-1)!.seq!,
        count: batch.length - cut,
        streams: new Map(entries.map(([db]) => [db, this.#clients[db].connection])),
      };
    }
    return { done: cut, failure: failure === undefined ? undefined : stuck ?? failure };
  }

  /**
   * Whether `batch` starts with the events of {@linkcode RedisSink.#unconfirmed}, still on
   * the connections that wrote them (a reconnect may have found another master).
   */
  #isUnconfirmed(batch: readonly SpooledEvent[], written: _Unconfirmed): boolean {
    if (batch.length < written.count) return false;
    if (batch[0].seq !== written.firstSeq) return false;
    if (batch[written.count - 1].seq !== written.lastSeq) return false;
    for (const [db, stream] of written.streams) {
      const client = this.#clients[db];
      if (client.status !== "ready" || client.connection !== stream) return false;
    }
    return true;
  }

  /** Ask again whether the replicas hold what `written` names; a failure to retry, or none. */
  async #confirm(written: _Unconfirmed): Promise<unknown> {
    const replicas = this.#options.replicasAck ?? 0;
    const waitMs = this.#options.replicasAckTimeoutMs ?? 1000;
    const dbs = [...written.streams.keys()];
    const timeoutMs = (this.#options.commandTimeoutMs ?? 10_000) + waitMs;
    try {
      const acked = await _timeout(
        Promise.all(dbs.map((db) => this.#clients[db].call("WAIT", replicas, waitMs))),
        timeoutMs,
        `no reply within ${timeoutMs} ms`,
      );
      const fewest = Math.min(...acked.map(Number));
      if (fewest >= replicas) return undefined;
      this.#unconfirmed = written; // still on these connections: ask again next time
      return new ReplicaAckError(fewest, replicas, waitMs);
    } catch (error) {
      for (const db of dbs) this.#clients[db].disconnect(true);
      return error;
    }
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
      const replicas = reason instanceof ReplicaAckError;
      this.#status(
        "warning",
        `${this.#where} ${
          replicas ? "does not replicate in time" : "is unreachable"
        }: ${this.#reason()}; events wait in ${where}`,
        {
          error: this.#reason(),
        },
      );
    }
    // Everything waiting goes to disk now, so a kill -9 during the outage loses nothing fsynced.
    if (this.#spool && this.#memory.length > 0 && this.#inflight?.source !== "spool") {
      const waiting = this.#memory.takeAll();
      try {
        const dropped = this.#spool.prepend(waiting);
        this.#release(waiting);
        if (dropped > 0) this.#reportDrops(dropped);
      } catch (error) {
        this.#memory.unshift(waiting); // the disk failed us: they wait in memory instead
        this.#debugLog(String((error as Error).message));
      }
    }
    this.#notifyProgress();
  }

  /** Redis answered again; `justSent` events went out with the batch that proved it. */
  #markUp(justSent: number): void {
    if (!this.#down) return;
    this.#down = false;
    this.#backoffMs = 0;
    const downMs = Math.round(now() - this.#downSince);
    const waited = justSent + this.#memory.length + (this.#spool?.count ?? 0);
    const dropped = this.#dropped() - this.#droppedAtDown;
    this.#reportDrops(0, true); // what the 10 s limit held back, so the total is known now
    const what = this.#downForLagOnly ? "did not replicate in time" : "was unreachable";
    this.#status(
      "warning",
      `${this.#where} ${what} for ${(downMs / 1000).toFixed(1)}s; ${waited} events waited` +
        (dropped > 0 ? `; ${dropped} dropped` : ""),
      { down_ms: downMs, queued: waited, dropped },
    );
    this.#notifyProgress();
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
      await _timeout(
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
      await _timeout(
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

  // ---- small helpers ----

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
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
    });
  }

  /**
   * Call `onStuck` unless the pipelines being sent have their replies (`#sendWatch` cleared)
   * within `timeoutMs`. One timer serves many batches: it is armed when none is, and when it
   * fires early for the batch now in flight, it is armed again for the rest of its time.
   */
  #watchSend(timeoutMs: number, onStuck: () => void): void {
    this.#sendWatch = { deadline: performance.now() + timeoutMs, onStuck };
    if (this.#sendTimer === undefined) this.#armSendTimer(timeoutMs);
  }

  #armSendTimer(ms: number): void {
    this.#sendTimer = setTimeout(() => {
      this.#sendTimer = undefined;
      const watch = this.#sendWatch;
      if (watch === undefined) return;
      const left = watch.deadline - performance.now();
      if (left > 0) return this.#armSendTimer(left);
      this.#sendWatch = undefined;
      watch.onStuck();
    }, Math.max(0, Math.ceil(ms)));
  }

  #kick(): void {
    this.#wake?.();
  }

  #waitProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#progress.push(done);
    });
  }

  #notifyProgress(): void {
    const waiting = this.#progress;
    this.#progress = [];
    for (const resolve of waiting) resolve();
  }
}

/** One command for Redis: the DB it goes to, the command name and its arguments. */
export type RedisCommand = readonly [RedisDbRole, string, ...string[]];

/** The commands for one queued event; none when the layout writes nothing for it. */
export type RedisEncoder = (record: SpooledEvent) => RedisCommand[];

/** Options of {@linkcode redisEncoders}. */
export interface RedisEncoderOptions {
  /** The `MAXLEN ~` of every `XADD`. */
  maxLen: number;
  /** Host name written in every entry and in the state hash. */
  hostname: string;
  /** Version written in the state hash. */
  version: string;
  /** The entry layout; see {@linkcode RedisSinkOptions.layout}. Default `"wrapp"`. */
  layout?: RedisLayout;
  /** In the `go` layout, remove Go-grammar markers from the text. Default `true`. */
  removeMarkers?: boolean;
}

/**
 * One encoder per event kind, in `options.layout`: the commands (with their DB) for one
 * queued event. Exported for unit tests; the sink is the only other user.
 */
export function redisEncoders(
  keys: RedisKeys,
  options: RedisEncoderOptions,
): EventEncoders<RedisEncoder> {
  const { hostname, version } = options;
  const maxLen = String(options.maxLen);
  const go = options.layout === "go";
  const removeMarkers = options.removeMarkers !== false;
  const xadd = (
    key: string,
    text: string,
    time: number,
    record: SpooledEvent,
  ): [RedisDbRole, string, ...string[]] => {
    const op: [RedisDbRole, string, ...string[]] = [
      "logs",
      "XADD",
      key,
      "MAXLEN",
      "~",
      maxLen,
      "*",
      "message",
      text,
      "ts",
      String(Math.floor(time)),
      "run",
      record.run,
      "pid",
      String(record.pid),
      "host",
      hostname,
    ];
    if (record.seq !== undefined) op.push("seq", String(record.seq));
    return op;
  };
  // The run, pid and host a status event names itself win over the record's (the exit of
  // a run is reported once the child is gone, when the record's pid is 0).
  const statusXadd = (key: string, text: string, event: StatusEvent, record: SpooledEvent) => {
    const op = xadd(key, text, event.time, record);
    for (const [name, at] of _OVERRIDABLE) {
      const value = event.fields[name];
      if (value !== undefined) op[at] = String(value);
    }
    return op;
  };
  const separator = (key: string, text: string, event: StatusEvent, record: SpooledEvent) => {
    const op = statusXadd(key, text, event, record);
    op.push("separator", event.phase === "start" ? "new_run" : "end_run");
    return op;
  };
  const addFields = (op: string[], event: StatusEvent) => {
    for (const [name, value] of Object.entries(event.fields)) {
      if (_OVERRIDABLE.has(name)) continue;
      op.push(_RESERVED.has(name) ? `field_${name}` : name, String(value));
    }
  };
  const stateOf = (event: StatusEvent, record: SpooledEvent): RedisCommand[] => {
    const status = _STATE_OF_PHASE[event.phase];
    if (status === undefined) return [];
    const fields = event.fields;
    const state: [RedisDbRole, string, ...string[]] = [
      "state",
      "HSET",
      keys.state,
      "pid",
      String(fields.pid ?? record.pid),
      "run",
      String(fields.run ?? record.run),
      "status",
      status,
      "version",
      String(fields.version ?? version),
      "host",
      String(fields.host ?? hostname),
      "heartbeat",
      String(Math.floor(event.time)),
    ];
    if (event.phase === "start") state.push("started", String(Math.floor(event.time)));
    for (const name of ["restarts", "exit_code", "signal"]) {
      if (fields[name] !== undefined) state.push(name, String(fields[name]));
    }
    if (event.phase !== "exit") return [state];
    // The latest run's end alone (`wrapp ps --redis` shows it): when, and not a former
    // run's exit code beside this run's signal, or the other way round.
    state.push("exited", String(Math.floor(event.time)));
    const other = fields.signal !== undefined ? "exit_code" : "signal";
    return [["state", "HDEL", keys.state, other], state];
  };
  return {
    log: (event) => (record) => {
      let key = event.stream === "stderr" ? keys.error : keys.info;
      let text = event.text;
      if (go) {
        // The Go wrapp logged both outputs to :info, markers removed, trimmed, empty lines dropped.
        key = keys.info;
        text = goLineText(text, { removeMarkers, split: event.split });
        if (text === "") return [];
      }
      const op = xadd(key, text, event.time, record);
      if (go && event.stream === "stderr") op.push("output", "stderr");
      if (event.split) op.push("part", String(event.split.part), "last", String(event.split.last));
      if (event.lines !== undefined) op.push("lines", String(event.lines));
      if (event.unterminated !== undefined) op.push("unterminated", event.unterminated);
      return [op];
    },
    status: (event) => (record) => {
      const ops: RedisCommand[] = [];
      const code = go && event.phase === "exit" ? goExitCode(event.fields) : undefined;
      if (go && event.phase === "start") {
        // Go's separator is the entry's message; ours rides along as `detail`.
        const text = goNewRun(event.time);
        ops.push(separator(keys.info, text, event, record));
        const op = separator(keys.status, text, event, record);
        op.push("phase", event.phase, "detail", event.message);
        addFields(op, event);
        ops.push(op);
      } else if (code !== undefined) {
        const op = statusXadd(keys.status, goExitLine(code), event, record);
        op.push("phase", event.phase, "detail", event.message);
        addFields(op, event);
        const text = goEndRun(event.time, code);
        ops.push(op, separator(keys.status, text, event, record));
        ops.push(separator(keys.info, text, event, record));
      } else {
        const op = statusXadd(keys.status, event.message, event, record);
        op.push("phase", event.phase);
        addFields(op, event);
        ops.push(op);
      }
      // The service's own STATUS= text (systemd notify), for `wrapp ps`; a new run starts without.
      const statusText = event.fields.status_text;
      if (statusText !== undefined) {
        ops.push(["state", "HSET", keys.state, "status_text", String(statusText)]);
      } else if (event.phase === "start") ops.push(["state", "HDEL", keys.state, "status_text"]);
      ops.push(...stateOf(event, record));
      return ops;
    },
    metric: (event) => () => [
      event.op === "incr"
        ? ["values", "INCR", keys.value(event.name)]
        : ["values", "SET", keys.value(event.name), event.value],
    ],
    crash: (event) => (record) => {
      const op = xadd(keys.crash, event.summary, event.time, record);
      if (_crashStreamFields === undefined) {
        throw new Error("crash events cannot be encoded before loadCrashEncoding()");
      }
      for (const [name, value] of Object.entries(_crashStreamFields(event))) {
        op.push(_RESERVED.has(name) ? `field_${name}` : name, value);
      }
      return [op];
    },
    // Hangs go where crashes go, told apart by kind = hang.
    hang: (event) => (record) => {
      const op = xadd(keys.crash, event.summary, event.time, record);
      if (_hangStreamFields === undefined) {
        throw new Error("hang events cannot be encoded before loadCrashEncoding()");
      }
      for (const [name, value] of Object.entries(_hangStreamFields(event))) {
        op.push(_RESERVED.has(name) ? `field_${name}` : name, value);
      }
      return [op];
    },
    // Summaries and anomalies to the trace stream; per-interval counts only as counters (DB 2).
    syscall: (event) => (record) => {
      if (event.scope === "interval") {
        return [
          ["values", "INCRBY", keys.value("syscalls"), String(event.calls)],
          ["values", "INCRBY", keys.value("syscall_errors"), String(event.errors)],
        ];
      }
      const top = event.rows.slice(0, 5).map((row) => `${row.name} ${row.calls}`).join(", ");
      const op = xadd(
        keys.trace,
        `syscall summary: ${event.calls} calls, ${event.errors} errors${
          top ? `; top: ${top}` : ""
        }`,
        event.time,
        record,
      );
      op.push(
        "kind",
        "syscall_summary",
        "calls",
        String(event.calls),
        "errors",
        String(event.errors),
        "total_ns",
        String(event.totalNs),
        "lost_events",
        String(event.lostEvents),
        "rows",
        JSON.stringify(event.rows.slice(0, 50)),
      );
      return [op];
    },
    anomaly: (event) => (record) => {
      const z = event.zScore === null ? "" : `, z ${event.zScore.toFixed(1)}`;
      const op = xadd(
        keys.trace,
        `anomaly: ${event.syscall} took ${
          (event.latencyNs / 1e6).toFixed(3)
        } ms${z} in thread ${event.tid} (${event.comm})`,
        event.time,
        record,
      );
      op.push(
        "kind",
        "anomaly",
        "syscall",
        event.syscall,
        "tid",
        String(event.tid),
        "comm",
        event.comm,
        "latency_ns",
        String(event.latencyNs),
        "reasons",
        event.reasons.join(","),
      );
      if (event.zScore !== null) op.push("z_score", event.zScore.toFixed(2));
      if (event.errno !== undefined) op.push("errno", event.errno);
      return [op];
    },
    tef: (event) => (record) => [
      xadd(
        redisKeys(event.stream).trace,
        event.json ?? JSON.stringify(event.event),
        event.time,
        record,
      ),
    ],
  };
}

/**
 * `WAIT` said fewer replicas hold a batch than {@linkcode RedisSinkOptions.replicasAck}
 * asks for: the batch is sent again.
 */
export class ReplicaAckError extends Error {
  /** Replicas that acknowledged. */
  readonly acknowledged: number;
  /** Replicas asked for. */
  readonly required: number;

  /** Create the error: `acknowledged` of `required` replicas within `timeoutMs`. */
  constructor(acknowledged: number, required: number, timeoutMs: number) {
    super(
      `${acknowledged} of the ${required} replica${
        required === 1 ? "" : "s"
      } asked for (replicas_ack) acknowledged the writes within ${timeoutMs} ms`,
    );
    this.name = "ReplicaAckError";
    this.acknowledged = acknowledged;
    this.required = required;
  }
}

/** A FIFO of items kept as the arrays they arrived in, so batches are cheap to add and take. */
class _Queue<T> {
  #chunks: T[][] = [];
  #offset = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(items: T[]): void {
    if (items.length === 0) return;
    this.#chunks.push(items);
    this.#length += items.length;
  }

  unshift(items: T[]): void {
    if (items.length === 0) return;
    if (this.#offset > 0) {
      this.#chunks[0] = this.#chunks[0].slice(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(items);
    this.#length += items.length;
  }

  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const end = Math.min(chunk.length, this.#offset + n - out.length);
      for (let i = this.#offset; i < end; i++) out.push(chunk[i]);
      this.#offset = end;
      if (end === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#length -= out.length;
    return out;
  }

  takeAll(): T[] {
    return this.take(this.#length);
  }
}

function _validate(options: RedisSinkOptions): void {
  if (typeof options.host !== "string" || options.host === "") {
    throw new TypeError(
      `Invalid Redis host ${JSON.stringify(options.host)}: must be a non-empty string`,
    );
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new RangeError(
      `Invalid Redis port "${options.port}": must be an integer from 1 to 65535`,
    );
  }
  if (typeof options.streamName !== "string" || options.streamName === "") {
    throw new TypeError(
      `Invalid stream name ${JSON.stringify(options.streamName)}: must be a non-empty string`,
    );
  }
  const positive: [string, number | undefined][] = [
    ["maxLen", options.maxLen],
    ["healthIntervalMs", options.healthIntervalMs],
    ["memoryQueueEvents", options.memoryQueueEvents],
    ["spoolMaxBytes", options.spoolMaxBytes],
    ["batchEvents", options.batchEvents],
    ["connectTimeoutMs", options.connectTimeoutMs],
    ["commandTimeoutMs", options.commandTimeoutMs],
  ];
  for (const [name, value] of positive) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(
        `Invalid Redis sink option ${name} "${value}": must be a positive number`,
      );
    }
  }
  if (
    options.policy !== undefined && options.policy !== "drop_oldest" && options.policy !== "block"
  ) {
    throw new RangeError(
      `Invalid Redis sink policy "${options.policy}": must be "drop_oldest" or "block"`,
    );
  }
}

function _isRetryable(error: unknown): boolean {
  // Connection-level errors (closed, not writable, timed out) are not ReplyErrors.
  if (!(error instanceof Error) || error.name !== "ReplyError") return true;
  return _RETRYABLE_REPLY.test(error.message);
}

function _timeout<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(reason || "timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
