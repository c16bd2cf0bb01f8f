/**
 * The options of the Redis sink, their checks, and what it reports back (counters, the
 * outcome of a flush).
 *
 * @module
 */

import type { StatusEvent } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import type { RedisLayout } from "../../../core/config/config.ts";
import type { SinkStats } from "../sink.ts";
import type { SpoolPolicy } from "../disk_spool.ts";
import type { RedisPool } from "../redis_pool.ts";
import type { RedisDbs } from "./keys.ts";

/**
 * Options for `RedisSink.connect`.
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
  /** Databases by role. Default `DEFAULT_REDIS_DBS` (./keys.ts). */
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
   * `block`: nothing is dropped; `RedisSink.write` still accepts everything (it
   * must never stall the child's output), and `RedisSink.waitForCapacity` stays
   * pending until there is room again — the output pipeline awaits it before reading more,
   * so the child ends up blocked in write(2) on a full pipe, as with a slow terminal.
   */
  policy?: SpoolPolicy;
  /** Most events per pipeline. Default 2000. */
  batchEvents?: number;
  /**
   * While Redis keeps up, `RedisSink.waitForCapacity` holds a bursting producer once three
   * batches wait in memory, so the burst waits in the pipe rather than in memory and spool;
   * a hold that sees no delivery for this long ends that until Redis delivers again. In ms.
   * Default 200.
   */
  burstStallMs?: number;
  /** How long `RedisSink.connect` and each connection attempt wait, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * A pipeline without every reply after this long fails: its connection is dropped and
   * reopened, and the unacknowledged rest of the batch is sent again. In ms. Default 10000.
   */
  commandTimeoutMs?: number;
  /** How long `RedisSink.close` waits without any delivery before leaving the rest in the spool, in ms. Default 5000. */
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

/** Counters of a `RedisSink`: the common ones and where events wait. */
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

/** What `RedisSink.flushWithin` achieved. */
export interface FlushReport {
  /** Every event accepted before the call is in Redis, counted as dropped, or fsynced in the spool. */
  complete: boolean;
  /** Events not yet in Redis (in memory and in the spool), now. */
  waiting: number;
  /** Of these, events in the spool. */
  spooled: number;
}

/**
 * Throw `TypeError`/`RangeError` for options the sink cannot work with, e.g.
 * `Invalid Redis port "0": must be an integer from 1 to 65535`.
 */
export function validateRedisSinkOptions(options: RedisSinkOptions): void {
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
    ["burstStallMs", options.burstStallMs],
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
