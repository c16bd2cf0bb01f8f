/**
 * What a {@linkcode Supervisor} is given and what its run reports.
 *
 * @module
 */

import type { ExitStatus } from "../../core/signals.ts";
import type { DebugLog } from "../../core/debug.ts";
import type { Sink } from "../../pipeline/sinks/sink.ts";
import type { RedisPool } from "../../pipeline/sinks/redis_pool.ts";
import type { ByteWriter } from "./echo.ts";
import type { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import type { HeapTrimmer } from "../../core/heap_trimmer.ts";

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /** Where echoed stdout goes. Default `Deno.stdout`. */
  stdout?: ByteWriter;
  /** Where echoed stderr and wrapp's own notices go. Default `Deno.stderr`. */
  stderr?: ByteWriter;
  /** Extra sinks besides the configured ones (tests pass a MemorySink). */
  extraSinks?: Sink[];
  /**
   * How long to keep reading output after the child exited, for grandchildren holding the
   * pipes, ms; what is left of its process group then is ended (SIGTERM, SIGKILL after
   * `stop_grace`). Default 2000.
   */
  drainMs?: number;
  /** Longest wait for a stuck reader of wrapp's stdout/stderr at exit, ms; the rest of the echo is dropped. Default 2000. */
  echoFlushMs?: number;
  /** Install listeners for the signals wrapp forwards. Default `true`; a group of services has one set for all, calling {@linkcode Supervisor.forward}. */
  handleSignals?: boolean;
  /** Write this before every echoed line and every notice (`"robot | "`), for services sharing one journal. Default: none, output echoed as it comes. */
  echoPrefix?: string;
  /** The eBPF crash watcher, shared by a group of services (its owner stops it). Default: the supervisor starts its own when `[crash]` asks for one. */
  crashWatcher?: Promise<EbpfCrashWatcher>;
  /** Redis connections shared with the other services of a group. Default: the sink's own. */
  redisPool?: RedisPool;
  /** Gives freed C heap back after activity, shared by a group (its owner closes it). Default: the supervisor's own. */
  heapTrimmer?: HeapTrimmer;
}

/**
 * What a finished supervision reports.
 *
 * @example Reporting how a run ended
 * ```ts
 * import { loadConfig, type RunResult, runService } from "@wrapp/wrapp";
 *
 * const result: RunResult = await runService(await loadConfig("examples/hello.toml"));
 * console.log(`run ${result.runId}: exit ${result.exitCode} after ${result.restarts} restarts`);
 * if (result.tracePath) console.log(`trace: ${result.tracePath}`);
 * ```
 */
export interface RunResult {
  /** The exit code wrapp should end with: the last child's, or 128 + signal; non-zero when it gave up restarting. */
  exitCode: number;
  /** How the last child ended. */
  status: ExitStatus;
  /** The session's id (one per `wrapp run`, shared by restarts). */
  runId: string;
  /** How many times the service was restarted. */
  restarts: number;
  /** The assembled trace.json, when the local sink was on. */
  tracePath?: string;
}

/**
 * Options for `runService`; the same as the supervisor's.
 *
 * @example Supervising from a program that handles signals itself
 * ```ts
 * import { loadConfig, MemorySink, runService, type RunServiceOptions } from "@wrapp/wrapp";
 *
 * const sink = new MemorySink();
 * const options: RunServiceOptions = {
 *   handleSignals: false,
 *   extraSinks: [sink],
 *   echoPrefix: "hello | ",
 * };
 * await runService(await loadConfig("examples/hello.toml"), options);
 * console.log(`${sink.events.length} events`);
 * ```
 */
export type RunServiceOptions = SupervisorOptions;
