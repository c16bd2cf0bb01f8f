/**
 * Where a recording's events go: its folder's trace sink (`trace.json`, `events.jsonl`)
 * and, with `--redis`, Redis. Three routers: the recording's own TEF events go only to
 * the trace, anomalies only to Redis (the trace draws them as slices instead), status
 * and syscall events to both.
 *
 * @module
 */

import { type Event, now } from "../../core/event.ts";
import type { DebugLog } from "../../core/debug.ts";
import type { Router } from "../../pipeline/router.ts";
import type { RedisSink } from "../../pipeline/sinks/redis.ts";
import type { TraceEventFileSink } from "../../pipeline/sinks/trace_event_file.ts";
import { openPipeline, openPipelineRedis } from "../../pipeline/open_pipeline.ts";
import type { TefObject } from "./recording_trace.ts";

/** What {@linkcode openRecordingRedis} needs. */
export interface RecordingRedisOptions {
  /** Also send the summary and anomalies to Redis. */
  redis?: { url: string; passwordFile?: string; name: string };
  /** Environment lookup (WRAPP_REDIS_PASSWORD). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  notice: (text: string) => void;
}

/**
 * The Redis sink, when asked for. Opened first: a bad URL or password file is a usage
 * error, before any folder exists.
 */
export async function openRecordingRedis(
  options: RecordingRedisOptions,
  debug: DebugLog,
): Promise<RedisSink | undefined> {
  return options.redis
    ? await openPipelineRedis({
      fromFlags: {
        url: options.redis.url,
        passwordFile: options.redis.passwordFile,
        streamName: options.redis.name,
        env: options.env ?? ((name) => Deno.env.get(name)),
        log: (message) => options.notice(`wrapp record: ${message}`),
        debug,
      },
    })
    : undefined;
}

/** The sinks of one recording; see the module documentation. */
export class RecordingSinks {
  readonly #app: string;
  readonly #tefSink: TraceEventFileSink;
  readonly #tefRouter: Router;
  readonly #allRouter: Router;
  readonly #redisRouter: Router | undefined;

  private constructor(
    app: string,
    tefSink: TraceEventFileSink,
    routers: { tef: Router; all: Router; redis?: Router },
  ) {
    this.#app = app;
    this.#tefSink = tefSink;
    this.#tefRouter = routers.tef;
    this.#allRouter = routers.all;
    this.#redisRouter = routers.redis;
  }

  /** Open the trace sink in the recording's folder `dir` (run id `name`), beside `redis`. */
  static async open(
    redis: RedisSink | undefined,
    recording: { app: string; dir: string; name: string; debug: DebugLog },
  ): Promise<RecordingSinks> {
    const { app, dir, name, debug } = recording;
    const pipeline = await openPipeline({
      trace: { runDir: dir, processName: `wrapp record ${app}`, runId: name },
      redis: redis && { sink: redis },
      debug,
    });
    const tefSink = pipeline.traceSink!;
    const tefRouter = pipeline.routerTo([tefSink]);
    const allRouter = pipeline.router;
    const redisRouter = redis && pipeline.routerTo([redis]);
    return new RecordingSinks(app, tefSink, { tef: tefRouter, all: allRouter, redis: redisRouter });
  }

  /** The recording's own TEF events, to the trace only. */
  tef(events: readonly TefObject[]): void {
    if (events.length === 0) return;
    const time = now();
    this.#tefRouter.emitAll(
      events.map((event): Event => ({ kind: "tef", time, stream: this.#app, event })),
    );
  }

  /** A status or syscall event, to every sink. */
  emit(event: Event): void {
    this.#allRouter.emit(event);
  }

  /** An event for Redis only (anomalies: the trace draws them itself). */
  emitToRedis(event: Event): void {
    this.#redisRouter?.emit(event);
  }

  /** Events in the assembled `trace.json` (0 before {@linkcode RecordingSinks.close}). */
  get traceEvents(): number {
    return this.#tefSink.assembled?.events ?? 0;
  }

  /** Deliver everything and close; resolves with the trace sink's problem, if any. */
  async close(): Promise<string | undefined> {
    // Both routers write to the trace sink: deliver everything before either closes it.
    await this.#allRouter.flush();
    await this.#redisRouter?.flush();
    await this.#tefRouter.close();
    await this.#allRouter.close();
    await this.#redisRouter?.close();
    return await this.#tefSink.healthCheck();
  }

  /** Close whatever is still open, ignoring failures (cleanup on the way out). */
  async closeQuietly(): Promise<void> {
    await this.#tefRouter.close().catch(() => {});
    await this.#allRouter.close().catch(() => {});
  }
}
