/**
 * One `wrapp memprof` run: serve the page and the API (an empty profile until bpftrace
 * is attached), launch the command held before its exec (or take `--pid`), start the
 * memory profile, wait for the end (the process exits, `--duration` passes, a signal, or
 * bpftrace dies), stop it and write the files asked for; then, with `--keep-serving`,
 * serve the final profile until the next signal. The command line parsing, the Redis
 * sink and the printed summary are `lib/cli/memprof_command.ts`'s.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import { UsageError } from "../../core/errors.ts";
import { describeExit, type ExitStatus, shellExitCode } from "../../core/signals.ts";
import { assertReady, preflight } from "../../pipeline/bpf/preflight.ts";
import type { Router } from "../../pipeline/router.ts";
import { readCommandLine } from "../../pipeline/sources/command_line.ts";
import {
  processState,
  spawnStopped,
  type StoppedChild,
} from "../../pipeline/sources/spawn_stopped.ts";
import { type MemprofServer, type MemprofSource, serveMemprof } from "./http_server.ts";
import { MEMPROF_BPF } from "./memprof_bpf.ts";
import { type MemprofOutputs, shortCommand, writeMemprofOutputs } from "./memprof_outputs.ts";
import { MemprofSession, type MemprofSnapshot } from "./memprof_session.ts";
import { memprofToRouter } from "./router_hook.ts";

/** The signals that end a run (the CLI's SIGINT, SIGTERM and SIGHUP, or an abort). */
export interface StopSignals {
  /** Resolves on the first signal. */
  readonly first: Promise<void>;
  /** Resolves on the next signal after the ones seen so far. */
  next(): Promise<void>;
  /** Call `callback` after `ms` (any length); cleared by `close()`. */
  timer(callback: () => void, ms: number): void;
  /** Stop watching. */
  close(): void;
}

/**
 * Check before anything starts: that `--pid` is a live process other than wrapp, then
 * root, bpftrace and tracefs; resolves with the bpftrace to run. Throws
 * {@linkcode UsageError}, `PrivilegeError` or `SidecarError`.
 */
export async function prepareMemprof(
  options: { pid?: number; bpftrace?: string; debug: DebugLog },
): Promise<{ path: string; version: string }> {
  if (options.pid !== undefined) await _checkPid(options.pid);
  const report = await preflight({
    bpftrace: options.bpftrace,
    tracepoints: MEMPROF_BPF.tracepoints,
  });
  options.debug(`preflight: ${JSON.stringify(report)}`);
  assertReady(report);
  return report.bpftrace!;
}

/** Options for {@linkcode MemprofRun}. */
export interface MemprofRunOptions {
  /** Attach to this process… */
  pid?: number;
  /** …or launch this command. */
  command?: string[];
  bpftrace: { path: string; version: string };
  /** Serve the page and the API here; undefined: no server. */
  listen?: { hostname: string; port: number };
  allowOrigin?: string;
  /** After the end, serve the final profile until the next signal. */
  keepServing: boolean;
  /** How often bpftrace reports, ms (whole seconds). */
  intervalMs: number;
  maxPages: number;
  allPages: boolean;
  /** Stop profiling after this long, ms. */
  durationMs?: number;
  /** The files to write at the end. */
  outputs: MemprofOutputs;
  /** Snapshots to Redis: the router, the stream name, at most one per `everyMs`. */
  redis?: { router: Router; stream: string; everyMs: number };
  notice: (text: string) => void;
  debug: DebugLog;
  /** Start watching the signals; each is also handed to `forward`. */
  watchSignals: (forward: (signal: Deno.Signal) => void) => StopSignals;
}

/** One `wrapp memprof` run; see the module documentation. */
export class MemprofRun {
  readonly #options: MemprofRunOptions;
  #signals: StopSignals | undefined;
  #child: StoppedChild | undefined;
  #session: MemprofSession | undefined;
  #server: MemprofServer | undefined;
  #exitStatus: ExitStatus | undefined;

  /** A run to {@linkcode MemprofRun.profile}; {@linkcode MemprofRun.close} it in every case. */
  constructor(options: MemprofRunOptions) {
    this.#options = options;
  }

  /**
   * Profile until the end and write the files; resolves with the session and its final
   * snapshot. Throws `SpawnError`, `SinkError`, `WrappError` (the address is taken) or the
   * `SidecarError` of a failed bpftrace (after a launched command has ended).
   */
  async profile(): Promise<{ session: MemprofSession; final: MemprofSnapshot }> {
    const options = this.#options;
    const session = await this.#start();
    const ended = await this.#waitForEnd(session);
    const exitStatus = typeof ended === "object" ? ended.status : undefined;
    this.#exitStatus = exitStatus;
    options.debug(`profiling ends: ${exitStatus ? describeExit(exitStatus) : ended}`);
    if (ended === "bpftrace") {
      const failure = session.failure();
      if (failure) {
        if (this.#child) await this.#child.status;
        throw failure;
      }
    }
    if (exitStatus) session.markExited(describeExit(exitStatus));
    const final = await session.stop();
    await writeMemprofOutputs(session, final, options.outputs, options.notice);
    return { session, final };
  }

  /** With `--keep-serving`: serve the final profile until the next signal. */
  async keepServing(): Promise<void> {
    if (!this.#server || !this.#options.keepServing) return;
    this.#options.notice(`wrapp: the final profile stays at ${this.#server.url} until Ctrl-C`);
    await this.#signals!.next();
  }

  /**
   * wrapp's exit code: 0 after `--pid`; a launched command's own, after waiting for it
   * (after `--duration` it runs on unprofiled, like without wrapp).
   */
  async exitCode(): Promise<number> {
    if (!this.#child) return 0;
    return shellExitCode(this.#exitStatus ?? await this.#child.status);
  }

  /** Stop watching signals, stop the profile, stop serving. */
  async close(): Promise<void> {
    this.#signals?.close();
    if (this.#session) await this.#session.stop().catch(() => {});
    await this.#server?.shutdown().catch(() => {});
  }

  /** Serve, launch, attach; the launched command runs from here on. */
  async #start(): Promise<MemprofSession> {
    const options = this.#options;
    // Ctrl-C reaches a launched command directly (same process group); SIGTERM and SIGHUP
    // sent to wrapp alone are passed on to it. With --pid, any of them ends the profile.
    // A second signal kills a launched command that ignored the first.
    let signalsSeen = 0;
    this.#signals = options.watchSignals((signal) => {
      signalsSeen++;
      if (this.#child && signalsSeen > 1) this.#child.kill("SIGKILL");
      else if (this.#child && signal !== "SIGINT") this.#child.kill(signal);
    });
    const holder = new _SessionHolder(options.pid ?? 0);
    if (options.listen) {
      this.#server = serveMemprof(holder, { ...options.listen, allowOrigin: options.allowOrigin });
      options.debug(`serving ${this.#server.url}`);
    }
    if (options.command) {
      this.#child = await spawnStopped(options.command[0], options.command.slice(1));
      options.debug(
        `launched "${this.#child.executable}" as pid ${this.#child.pid}, stopped before exec`,
      );
    }
    const pid = this.#child?.pid ?? options.pid!;
    const command = options.command?.join(" ") ?? await _commandLine(pid);
    const redis = options.redis;
    const onRouter = redis &&
      memprofToRouter(redis.router, { stream: redis.stream, pid, everyMs: redis.everyMs });
    try {
      this.#session = await MemprofSession.start({
        pid,
        bpftrace: options.bpftrace.path,
        command,
        periodS: options.intervalMs / 1000,
        maxPages: options.maxPages,
        allPages: options.allPages,
        debug: options.debug,
        onSnapshot: onRouter,
      });
    } catch (error) {
      this.#child?.kill("SIGKILL");
      throw error;
    }
    holder.session = this.#session;
    options.debug(`bpftrace ${options.bpftrace.version} attached to pid ${pid}`);
    const where = this.#server ? ` — ${this.#server.url}` : "";
    options.notice(
      `wrapp: profiling the memory of pid ${pid} (${shortCommand(command)})${where}${
        this.#child ? "" : "; Ctrl-C stops"
      }`,
    );
    this.#child?.resume();
    return this.#session;
  }

  /** The end: the process exits, the duration passes, a signal (--pid), or bpftrace dies. */
  #waitForEnd(
    session: MemprofSession,
  ): Promise<{ status: ExitStatus } | "signal" | "bpftrace" | "duration"> {
    const signals = this.#signals!;
    const durationMs = this.#options.durationMs;
    const never = new Promise<never>(() => {});
    const processExit: Promise<ExitStatus> = this.#child
      ? this.#child.status
      : _waitForExit(this.#options.pid!);
    return Promise.race([
      processExit.then((status) => ({ status })),
      this.#child ? never : signals.first.then(() => "signal" as const),
      session.exited.then(() => "bpftrace" as const),
      durationMs === undefined ? never : new Promise<"duration">((resolve) => {
        signals.timer(() => resolve("duration"), durationMs);
      }),
    ]);
  }
}

/** Serves an empty profile until the session has started. */
class _SessionHolder implements MemprofSource {
  session: MemprofSession | undefined;
  readonly #pid: number;

  constructor(pid: number) {
    this.#pid = pid;
  }

  get pid(): number {
    return this.session?.pid ?? this.#pid;
  }

  tree(options: { reverse: boolean; threshold: number }) {
    return this.session?.tree(options) ?? { value: 0, cacheValue: 0, frames: [] };
  }

  short() {
    return this.session?.short() ?? { total: 0, cache: 0, anon: 0, systemReportAnon: 0 };
  }

  status() {
    return this.session?.status() ?? { pid: this.pid, state: "starting" };
  }

  folded() {
    return this.session?.folded() ?? "";
  }
}

async function _checkPid(pid: number): Promise<void> {
  if (pid === Deno.pid) throw new UsageError(`Cannot attach to pid ${pid}: that is wrapp itself`);
  const state = await processState(pid);
  if (state === undefined || state === "Z" || state === "X") {
    throw new UsageError(`Cannot attach to pid ${pid}: no such process`);
  }
}

/** The command line of `pid`, else its name. */
async function _commandLine(pid: number): Promise<string> {
  return await readCommandLine(pid) ||
    (await Deno.readTextFile(`/proc/${pid}/comm`).catch(() => "")).trim();
}

/** Resolves when `pid` is gone or a zombie (checked every 200 ms). */
async function _waitForExit(pid: number): Promise<ExitStatus> {
  while (true) {
    const state = await processState(pid);
    if (state === undefined || state === "Z" || state === "X") return {};
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
