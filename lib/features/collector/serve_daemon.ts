/**
 * The `wrapp serve` daemon: the collector on its socket until DIE, DIE_WHEN_IDLE, SIGTERM,
 * SIGINT or an abort, every event also streamed to Redis when `--redis` names one.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import { openPipeline } from "../../pipeline/open_pipeline.ts";
import { type CollectedEvent, CollectorServer, formatCollectorStats } from "./collector_socket.ts";
import type { EnvLookup } from "./paths.ts";

/** `wrapp serve`'s Redis flags, as parsed (named after the options). */
export interface ServeRedisFlags {
  /** `--redis URL`: also stream every event there. */
  redis?: string;
  "redis-password-file"?: string;
  "redis-spool"?: string;
}

/** What {@linkcode runServeDaemon} serves, and how it reports. */
export interface ServeDaemonOptions {
  /** The socket to listen on (absolute). */
  socketPath: string;
  /** The trace folder (absolute). */
  dir: string;
  /** Longest line accepted, in bytes; the collector's default when undefined. */
  maxLineBytes?: number;
  /** The Redis flags: with `redis`, every event also goes to logs:app:<trace-id>:trace. */
  values: ServeRedisFlags;
  /** Environment lookup (`WRAPP_REDIS_PASSWORD`, the spool's default folder). */
  env: EnvLookup;
  /** Operator messages, one line each. */
  log: (message: string) => void;
  debug: DebugLog;
  /** Stop (like SIGTERM) when this signal aborts. */
  signal?: AbortSignal;
  /** Called once the socket is listening. */
  onListening?: (server: CollectorServer) => void;
  /** More sinks for every accepted event; see {@linkcode CollectorServer}. */
  onEvent?: (event: CollectedEvent) => void;
}

/**
 * Run the collector until DIE, DIE_WHEN_IDLE, SIGTERM, SIGINT or `signal`; then close
 * the Redis sink and log the counters. Resolves to the exit code, 0.
 */
export async function runServeDaemon(options: ServeDaemonOptions): Promise<number> {
  const { socketPath, dir, maxLineBytes, values, env, log, debug } = options;

  // Every collected event also goes to logs:app:<trace-id>:trace, through the spooled sink.
  const router = values.redis === undefined ? undefined : (await openPipeline({
    redis: {
      fromFlags: {
        url: values.redis,
        passwordFile: values["redis-password-file"],
        spoolDir: values["redis-spool"],
        streamName: "serve",
        env,
        log: (message) => log(`wrapp serve: ${message}`),
        debug,
      },
    },
    debug,
  })).router;
  const onEvent = router
    ? (event: CollectedEvent) => {
      router.emit({
        kind: "tef",
        time: event.time,
        stream: event.traceId,
        event: event.event,
        json: event.text,
      });
      options.onEvent?.(event);
    }
    : options.onEvent;

  const server = await CollectorServer.listen({
    socketPath,
    dir,
    maxLineBytes,
    onEvent,
    log: (message) => log(`wrapp serve: ${message}`),
    debug,
  });
  log(`wrapp serve: listening on "${server.socketPath}", writing traces to "${server.dir}"`);
  options.onListening?.(server);

  const handlers: Array<[Deno.Signal, () => void]> = (["SIGTERM", "SIGINT"] as const).map(
    (signal) => [signal, () => void server.stop(signal)],
  );
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  const onAbort = () => void server.stop("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let reason: string;
  try {
    reason = await server.stopped;
  } finally {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    options.signal?.removeEventListener("abort", onAbort);
  }
  await router?.close();
  log(`wrapp serve: stopped (${reason}): ${formatCollectorStats(server.stats())}`);
  return 0;
}
