/**
 * One way to build a pipeline: the sinks a run writes to (a Redis sink, the local Trace
 * Event file, any others) and the {@linkcode Router} that fans events out to them.
 *
 * The Redis sink and the Trace Event file sink are loaded with `import()` only when asked
 * for: `wrapp run` keeps in memory all day whatever it imports statically.
 *
 * @module
 */

import type { RedisConfig } from "../core/config/config.ts";
import { type DebugLog, silentDebug } from "../core/debug.ts";
import { Router } from "./router.ts";
import type { Sink } from "./sinks/sink.ts";
import type { RedisSink, RedisSinkOptions } from "./sinks/redis.ts";
import type { RedisPool } from "./sinks/redis_pool.ts";
import type { RedisFlags } from "./sinks/redis_from_flags.ts";
import type { TraceEventFileSink } from "./sinks/trace_event_file.ts";
import { prepareRunDir } from "./tef/run_dir.ts";

/** A Redis sink from a config's `[redis]`, for one service. */
export interface RedisFromConfig {
  /** The config's `[redis]`. */
  config: RedisConfig;
  /** The service name in the keys (`logs:app:<streamName>:info`). */
  streamName: string;
  /** Run id written in every entry. */
  runId: string;
  /** The current child pid (it changes on restarts). */
  pid: () => number;
  /** In the `go` layout, remove markers from the text (`[output] markers`). */
  removeMarkers: boolean;
  /** Connections shared with the other services of a group. Default: the sink's own. */
  pool?: RedisPool;
}

/**
 * Where the Redis sink of a pipeline comes from: a config's `[redis]`, the `--redis`
 * flags of a command without a config, or a sink the caller opened already.
 */
export type PipelineRedis =
  | { fromConfig: RedisFromConfig }
  | { fromFlags: RedisFlags }
  | { sink: RedisSink };

/** The local Trace Event file of a pipeline. */
export type PipelineTrace =
  & {
    /** Process name shown in Perfetto, usually the service name. */
    processName: string;
    /** Run id, shown in the run slice's name. */
    runId: string;
    /** pid written on every event. Default wrapp's own. */
    pid?: number;
  }
  & (
    /** The run's folder, made by the caller. */
    | { runDir: string }
    /** A folder of runs: `<dir>/<runId>` is made, runs beyond `keepRuns` are deleted. */
    | { dir: string; keepRuns?: number }
  );

/** Options for {@linkcode openPipeline}. */
export interface OpenPipelineOptions {
  /** The Redis sink, if any. */
  redis?: PipelineRedis;
  /** The local Trace Event file, if any. */
  trace?: PipelineTrace;
  /** Sinks besides these two (tests pass a MemorySink); they come first. */
  extraSinks?: readonly Sink[];
  /** Debug logger for the router and the Redis sink. Default: silent. */
  debug?: DebugLog;
  /**
   * A line for the operator: where a config's Redis sink streams (and the status events
   * it makes itself), and which run folder a trace in a folder of runs (`dir`) goes to.
   * Default: none. The `--redis` flags say it through their own `log`; a caller that made
   * the run folder knows it.
   */
  notice?: (text: string) => void;
  /** Called after each batch any of its routers handed to the sinks. Default: nothing. */
  onDeliver?: () => void;
}

/** The sinks of a pipeline and the router in front of them. */
export interface Pipeline {
  /** Routes to every sink. */
  readonly router: Router;
  /** Every sink, in routing order: the extra sinks, Redis, the trace. */
  readonly sinks: readonly Sink[];
  /** The Redis sink, when asked for. */
  readonly redisSink?: RedisSink;
  /** The Trace Event file sink, when asked for. */
  readonly traceSink?: TraceEventFileSink;
  /** The trace's run folder, when there is a trace. */
  readonly runDir?: string;
  /**
   * A router to some of the sinks only (`wrapp record` sends its own tracks to the trace
   * alone); {@linkcode Pipeline.close} closes it too.
   */
  routerTo(sinks: readonly Sink[]): Router;
  /** Flush and close every router, and so every sink. */
  close(): Promise<void>;
}

/**
 * Open the sinks `options` ask for and a router to them. A config's Redis sink never
 * throws for an unreachable Redis (it spools); `--redis` flags throw `UsageError` for a
 * bad URL or password file; the trace throws `SinkError` when its folder cannot be made.
 */
export async function openPipeline(options: OpenPipelineOptions): Promise<Pipeline> {
  const debug = options.debug ?? silentDebug;
  const notice = options.notice ?? (() => {});
  const sinks: Sink[] = [...(options.extraSinks ?? [])];
  const redisSink = options.redis && await openPipelineRedis(options.redis, { debug, notice });
  if (redisSink) sinks.push(redisSink);
  const trace = options.trace && await _openTrace(options.trace, notice);
  if (trace) sinks.push(trace.sink);
  const onDeliver = options.onDeliver;
  const router = new Router(sinks, { debug, onDeliver });
  const routers = [router];
  return {
    router,
    sinks,
    redisSink,
    traceSink: trace?.sink,
    runDir: trace?.runDir,
    routerTo(some) {
      const routed = new Router(some, { debug, onDeliver });
      routers.push(routed);
      return routed;
    },
    async close() {
      for (const routed of routers) await routed.close();
    },
  };
}

/**
 * The Redis sink alone, for a caller that opens it before the rest (`wrapp record` checks
 * the flags before it makes any folder) and passes it on as `{ sink }`.
 */
export async function openPipelineRedis(
  redis: PipelineRedis,
  options: { debug?: DebugLog; notice?: (text: string) => void } = {},
): Promise<RedisSink> {
  if ("sink" in redis) return redis.sink;
  if ("fromFlags" in redis) {
    // Loaded only when asked for: the flags' parser, the sink and its client.
    const { openRedisSinkFromFlags } = await import("./sinks/redis_from_flags.ts");
    return await openRedisSinkFromFlags(redis.fromFlags);
  }
  const notice = options.notice ?? (() => {});
  const { RedisSink } = await import("./sinks/redis.ts");
  const { streamName } = redis.fromConfig;
  // Never throws for an unreachable Redis: the sink starts spooling and the service starts.
  const sink = await RedisSink.connect(
    redisSinkOptionsFromConfig(redis.fromConfig, {
      onStatus: (event) => notice(event.message),
      debug: options.debug ?? silentDebug,
    }),
  );
  const problem = await sink.healthCheck();
  notice(
    `streaming "${streamName}" to Redis at ${sink.address}${
      problem ? ` (${problem}; events wait in the spool)` : ""
    }`,
  );
  return sink;
}

/** The options of a Redis sink for a config's `[redis]`. */
export function redisSinkOptionsFromConfig(
  from: RedisFromConfig,
  extra: Pick<RedisSinkOptions, "onStatus" | "debug">,
): RedisSinkOptions {
  const { config: redis } = from;
  return {
    host: redis.host,
    port: redis.port,
    tls: redis.tls,
    username: redis.username,
    password: redis.password,
    sentinels: redis.sentinels,
    masterName: redis.masterName,
    sentinelUsername: redis.sentinelUsername,
    sentinelPassword: redis.sentinelPassword,
    replicasAck: redis.replicasAck,
    replicasAckTimeoutMs: redis.replicasAckTimeoutMs,
    streamName: from.streamName,
    runId: from.runId,
    hostname: Deno.hostname(),
    pid: from.pid,
    dbs: { logs: redis.dbLogs, values: redis.dbValues, state: redis.dbState },
    maxLen: redis.maxLen,
    layout: redis.layout,
    removeMarkers: from.removeMarkers,
    healthIntervalMs: redis.healthIntervalMs,
    memoryQueueEvents: redis.memoryQueue,
    spoolDir: redis.spoolDir,
    spoolMaxBytes: redis.spoolMaxBytes,
    policy: redis.policy,
    onStatus: extra.onStatus,
    debug: extra.debug,
    pool: from.pool,
  };
}

async function _openTrace(
  trace: PipelineTrace,
  notice: (text: string) => void,
): Promise<{ sink: TraceEventFileSink; runDir: string }> {
  const runDir = "runDir" in trace
    ? trace.runDir
    : await prepareRunDir(trace.dir, trace.runId, { keepRuns: trace.keepRuns });
  // Loaded only with a trace: the sink, its encoders and the assembler.
  const { TraceEventFileSink } = await import("./sinks/trace_event_file.ts");
  const sink = await TraceEventFileSink.open({
    runDir,
    processName: trace.processName,
    pid: trace.pid ?? Deno.pid,
    runId: trace.runId,
  });
  if ("dir" in trace) notice(`trace of "${trace.processName}" run ${trace.runId} in ${runDir}`);
  return { sink, runDir };
}
