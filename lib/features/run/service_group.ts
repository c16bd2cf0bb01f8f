/**
 * `wrapp up` and `wrapp run a.toml b.toml …`: several services supervised by one wrapp.
 * Each keeps its own {@linkcode Supervisor} — pipeline, sinks, restart policy, crash
 * capture, user, stop grace — and the group adds what one process can hold only once:
 * the signal handlers, the eBPF crash watcher, the Redis sinks' connections (the control
 * streams keep their own: they block reading) and the name before each echoed line.
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import { ConfigError, WrappError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import type { ByteWriter } from "./echo.ts";
import { listenForForwardedSignals } from "../../core/signals.ts";
import { HeapTrimmer } from "../../core/heap_trimmer.ts";
import { RedisPool } from "../../pipeline/sinks/redis_pool.ts";
import { type RunResult, Supervisor } from "./supervisor.ts";

/** Options for {@linkcode ServiceGroup}. */
export interface ServiceGroupOptions {
  /** Debug logger; each line names its service. Default: silent. */
  debug?: DebugLog;
  /** Where echoed stdout goes. Default `Deno.stdout`. */
  stdout?: ByteWriter;
  /** Where echoed stderr and wrapp's notices go. Default `Deno.stderr`. */
  stderr?: ByteWriter;
  /** Install one set of listeners for the signals wrapp forwards, for every service. Default `true`. */
  handleSignals?: boolean;
  /** How long each supervisor reads output after its child exited, ms. Default: the supervisor's. */
  drainMs?: number;
  /** Called as each service ends for good, while the others may still run. */
  onEnd?: (end: ServiceEnd) => void;
}

/** How one service of the group ended. */
export interface ServiceEnd {
  /** Its stream name. */
  name: string;
  /** The config file it came from. */
  file: string;
  /** Its exit code: the supervisor's, or the exit code of the error that ended it. */
  exitCode: number;
  /** The supervision's result, when it ran to its end. */
  result?: RunResult;
  /** The error that ended its supervision early (it could not start, say). */
  error?: unknown;
}

/** What a finished group reports. */
export interface GroupResult {
  /** 0 when every service ended with 0, else the code of the first one (in time) to end with another. */
  exitCode: number;
  /** Every service, in the order they ended. */
  ends: ServiceEnd[];
}

/**
 * The rule for the group's exit code: 0 when every service ended cleanly, else the exit
 * code of the first service, in the order they ended, that did not.
 */
export function groupExitCode(ends: readonly Pick<ServiceEnd, "exitCode">[]): number {
  return ends.find((end) => end.exitCode !== 0)?.exitCode ?? 0;
}

/**
 * Refuse configs that would step on each other in one wrapp: the same stream name (the
 * same Redis keys, trace folder and control stream), the same local trace folder or
 * spool, the same [memprof] or [debug] address. The message names both files.
 */
export function checkGroupConflicts(configs: readonly Config[]): void {
  const claims = new Map<string, string>();
  const problems: string[] = [];
  const claim = (what: string, value: string | undefined, config: Config) => {
    if (value === undefined || value === "") return;
    const key = `${what}\0${value}`;
    const first = claims.get(key);
    if (first === undefined) claims.set(key, config.file);
    else problems.push(`"${first}" and "${config.file}" have the same ${what} "${value}"`);
  };
  for (const config of configs) {
    claim("stream_name", config.app.streamName, config);
    if (config.local.enabled) claim("[local] dir", config.local.dir, config);
    claim("[redis] spool_dir", config.redis?.spoolDir, config);
    claim("[memprof] listen", config.memprof?.listen, config);
    const debug = config.debug;
    claim("[debug] address", debug && `${debug.host}:${debug.port}`, config);
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `Cannot run these services in one wrapp: ${problems.join("; ")}`,
    );
  }
}

/** Several services supervised together; see the module documentation. */
export class ServiceGroup {
  readonly #configs: readonly Config[];
  readonly #options: ServiceGroupOptions;
  readonly #debug: DebugLog;
  readonly #supervisors: Supervisor[];
  readonly #wantsWatcher: boolean;
  readonly #crashWatcher = Promise.withResolvers<EbpfCrashWatcher>();
  readonly #heapTrimmer = new HeapTrimmer();

  /**
   * A group for `configs` (already loaded and valid). Throws {@linkcode ConfigError} when
   * two of them conflict ({@linkcode checkGroupConflicts}). Nothing starts before
   * {@linkcode ServiceGroup.run}.
   */
  constructor(configs: readonly Config[], options: ServiceGroupOptions = {}) {
    if (configs.length === 0) throw new RangeError("A service group needs at least one config");
    checkGroupConflicts(configs);
    this.#configs = configs;
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
    // One watcher for all, started by run(): one set of programs serves every service.
    this.#wantsWatcher = configs.some((c) => c.crash.enabled && c.crash.ebpfBacktrace && !c.debug);
    // A single service echoes as "wrapp run" does; several say whose line it is.
    const prefixed = configs.length > 1;
    // One connection per Redis server, user and database for all the services' sinks.
    const redisPool = new RedisPool();
    this.#supervisors = configs.map((config) => {
      const name = config.app.streamName;
      return new Supervisor(config, {
        debug: (message) => this.#debug(`${name}: ${message}`),
        stdout: options.stdout,
        stderr: options.stderr,
        handleSignals: false,
        echoPrefix: prefixed ? `${name} | ` : undefined,
        crashWatcher: this.#crashWatcher.promise,
        redisPool,
        heapTrimmer: this.#heapTrimmer,
        drainMs: options.drainMs,
      });
    });
  }

  /** The supervisors, in config order. */
  get supervisors(): readonly Supervisor[] {
    return this.#supervisors;
  }

  /**
   * Run every service until each has ended for good (its restart policy gave up or did
   * not restart it, or it was stopped). A service that ends does not stop the others.
   */
  async run(): Promise<GroupResult> {
    // Until every service has ended: a second SIGTERM must not kill wrapp while another
    // service still delivers its last events.
    const stopListening = this.#options.handleSignals === false
      ? () => {}
      : listenForForwardedSignals((signal) => {
        for (const supervisor of this.#supervisors) supervisor.forward(signal);
      });
    const watcher = this.#wantsWatcher
      ? EbpfCrashWatcher.start({
        supervisorPid: Deno.pid,
        debug: this.#debug,
        notice: (text) =>
          void (this.#options.stderr ?? Deno.stderr).write(
            new TextEncoder().encode(`wrapp: ${text}\n`),
          ),
      })
      : undefined;
    if (watcher) this.#crashWatcher.resolve(watcher);
    const ends: ServiceEnd[] = [];
    try {
      await Promise.all(this.#supervisors.map(async (supervisor, i) => {
        const config = this.#configs[i];
        const name = config.app.streamName;
        const end: ServiceEnd = { name, file: config.file, exitCode: 0 };
        try {
          end.result = await supervisor.run();
          end.exitCode = end.result.exitCode;
        } catch (error) {
          end.error = error;
          end.exitCode = error instanceof WrappError ? error.exitCode : 70;
          await this.#notice(name, error);
        }
        this.#debug(`${name}: ended with exit code ${end.exitCode}`);
        ends.push(end);
        this.#options.onEnd?.(end);
      }));
    } finally {
      stopListening();
      await (await watcher)?.stop();
      this.#heapTrimmer.close();
    }
    return { exitCode: groupExitCode(ends), ends };
  }

  /** Stop every service for good, each with its own stop grace. */
  stop(signal: Deno.Signal = "SIGTERM"): void {
    for (const supervisor of this.#supervisors) supervisor.stop(signal);
  }

  async #notice(name: string, error: unknown): Promise<void> {
    const text = error instanceof WrappError
      ? error.message
      : `internal error (please report it): ${(error as Error)?.stack ?? error}`;
    const stderr = this.#options.stderr ?? Deno.stderr;
    await stderr.write(new TextEncoder().encode(`${name} | wrapp: ${text}\n`));
  }
}
