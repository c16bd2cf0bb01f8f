/**
 * The `[debug]` section of `wrapp run`: the service waits at its first instruction for a
 * debugger, with `gdbserver` attached to it and listening on `host:port`, as with the Go
 * wrapp. The service stays wrapp's child (same pid, output, signals and exit code).
 *
 * How it gets there, from the hold just before the service's `execve`
 * (`HOLD_BEFORE_EXEC`: a shell stopped by its own SIGSTOP):
 *
 * 1. `gdbserver --attach - PID` (talking over its stdin/stdout, see `gdb_remote.ts`)
 *    takes the shell through the exec: with exec events on, gdbserver stops it at the
 *    new program's first instruction, the dynamic loader's entry point, and reloads its
 *    view of the process.
 * 2. A SIGSTOP is queued and delivered before any instruction runs; gdbserver then
 *    detaches passing it on, which leaves the service in a plain stop (state `T`),
 *    traced by nobody.
 * 3. `gdbserver --attach HOST:PORT PID` attaches again, for the user, and listens.
 * 4. wrapp connects to it once to clear what attaching to a stopped process leaves
 *    behind (see `_settle`), and leaves; gdbserver then waits for the user's debugger.
 *
 * A debugger attached before the exec (simpler) would start in `/bin/sh`, warn about a
 * mismatched executable and lose `break main`; one left attached through the exec would
 * see the process as started by gdbserver and kill it on `quit`. This way `gdb PROGRAM`,
 * `target remote HOST:PORT`, `break main`, `continue` behave as for any attached
 * process, and quitting gdb detaches and lets the service run on.
 *
 * gdbserver runs under `setpriv --pdeathsig KILL` (when setpriv is there), so it dies
 * with wrapp even when wrapp is killed; wrapp ends it itself when the service exits.
 *
 * @module
 */

import type { DebugConfig } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import { SidecarError } from "../../core/errors.ts";
import { findProgram } from "../../core/find_executable.ts";
import { waitUntilStopped } from "../../pipeline/sources/spawn_stopped.ts";
import { settleForDebugger, stepThroughExec } from "./debug_first_instruction.ts";
import {
  explainGdbserver,
  killProcess,
  msSince,
  raceTimeout,
  readLines,
  spawnGdbserver,
} from "./gdbserver_process.ts";
import { STOP_SIGNALS } from "../../core/signals.ts";

/** How long gdbserver may take to exit by itself after the service ended, ms. */
const _EXIT_GRACE_MS = 2000;

/** The Debian (and Ubuntu) package that has gdbserver. */
export const GDBSERVER_PACKAGE = "gdbserver";

/**
 * The path of `gdbserver` in `path` (default `$PATH`); throws a {@linkcode SidecarError}
 * (exit 69) naming the package to install when there is none.
 */
export async function findGdbserver(path?: string): Promise<string> {
  const found = await findProgram("gdbserver", path);
  if (found === undefined) {
    throw new SidecarError(
      `Cannot start gdbserver: "gdbserver" was not found in PATH; install the Debian package "${GDBSERVER_PACKAGE}"`,
    );
  }
  return found;
}

/** Options for {@linkcode ServiceDebug.start}. */
export interface ServiceDebugOptions {
  /** Path of gdbserver, from {@linkcode findGdbserver}. */
  gdbserver: string;
  /** The service's name, for messages. */
  name: string;
  /** Called with gdbserver's news (a debugger connected or left). */
  onNews?: (message: string, fields: Record<string, string | number>) => void;
  /** Debug logger. */
  debug?: DebugLog;
  /** How long each step may take (the exec, gdbserver starting to listen), ms. Default 10000. */
  timeoutMs?: number;
}

/** A service waiting for, or being stepped by, a debugger through gdbserver. */
export class ServiceDebug {
  /** The service's pid. */
  readonly pid: number;
  /** The program the service runs (`/proc/PID/exe` after its exec): give it to gdb. */
  readonly program: string;
  /** `host:port` gdbserver listens on (`[host]:port` for an IPv6 address). */
  readonly address: string;
  /** The host part of {@linkcode ServiceDebug.address}, as configured. */
  readonly host: string;
  /** The port gdbserver listens on. */
  readonly port: number;
  readonly #gdbserver: Deno.ChildProcess;
  readonly #exited: Promise<void>;
  readonly #lines: Promise<void>;
  readonly #state: { connected: boolean };
  #running = true;

  private constructor(
    pid: number,
    program: string,
    debug: DebugConfig,
    gdbserver: {
      process: Deno.ChildProcess;
      lines: Promise<void>;
      state: { connected: boolean; settled: boolean };
    },
  ) {
    this.pid = pid;
    this.program = program;
    this.host = debug.host;
    this.port = debug.port;
    this.address = _address(debug);
    this.#gdbserver = gdbserver.process;
    this.#exited = gdbserver.process.status.then(() => void (this.#running = false));
    this.#lines = gdbserver.lines;
    this.#state = gdbserver.state;
  }

  /**
   * Take the service `pid`, held stopped just before its exec, to its first instruction
   * and attach gdbserver listening on `debug.host:debug.port`. Resolves to `undefined`
   * when the service ended before its exec (it could not exec its program). Throws a
   * {@linkcode SidecarError} when gdbserver cannot attach or listen.
   */
  static async start(
    debug: DebugConfig,
    pid: number,
    options: ServiceDebugOptions,
  ): Promise<ServiceDebug | undefined> {
    const log = options.debug ?? (() => {});
    const timeoutMs = options.timeoutMs ?? 10_000;
    const started = performance.now();
    const program = await stepThroughExec(options.gdbserver, pid, { timeoutMs, log });
    if (program === undefined) return undefined;
    log(`pid ${pid} stopped at the first instruction of ${program} in ${msSince(started)} ms`);
    const stopped = await waitUntilStopped(pid, () => false, timeoutMs);
    if (stopped !== true) {
      throw new SidecarError(
        `Cannot hold "${options.name}" (pid ${pid}) for gdbserver: after its exec it ${stopped}`,
      );
    }

    const address = _address(debug);
    const gdbserver = await spawnGdbserver(options.gdbserver, ["--attach", address, String(pid)], {
      stdin: "null",
    });
    const { state, listens, said, lines } = _watchGdbserver(gdbserver, pid, address, {
      ...options,
      log,
    });
    const outcome = await raceTimeout(
      [
        listens[0].promise.then(() => "ready" as const),
        gdbserver.status.then(() => "exited" as const),
      ],
      timeoutMs,
    );
    if (outcome !== "ready") {
      killProcess(gdbserver);
      await gdbserver.status;
      await lines;
      throw new SidecarError(
        `Cannot start gdbserver on "${address}" for "${options.name}" (pid ${pid}): ${
          outcome === "timeout"
            ? `it did not listen within ${timeoutMs} ms`
            : explainGdbserver(said, pid)
        }`,
      );
    }
    log(`gdbserver ${gdbserver.pid} listens on ${address} after ${msSince(started)} ms`);
    try {
      await raceTimeout([settleForDebugger(debug, pid).then(() => listens[1].promise)], timeoutMs)
        .then(
          (outcome) => {
            if (outcome === "timeout") throw new Error(`no answer within ${timeoutMs} ms`);
          },
        );
    } catch (error) {
      killProcess(gdbserver);
      await gdbserver.status;
      await lines;
      throw new SidecarError(
        `Cannot prepare "${options.name}" (pid ${pid}) for a debugger through gdbserver on "${address}": ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    state.settled = true;
    log(`pid ${pid} ready for a debugger after ${msSince(started)} ms`);
    return new ServiceDebug(pid, program, debug, { process: gdbserver, lines, state });
  }

  /** Whether a debugger is connected to gdbserver right now. */
  get connected(): boolean {
    return this.#state.connected;
  }

  /** gdbserver's pid. */
  get gdbserverPid(): number {
    return this.#gdbserver.pid;
  }

  /** Whether gdbserver still runs (it exits by itself once a debugger detaches). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * How to connect, one step a line: `gdb PROGRAM`, `target remote ADDRESS`, `continue`.
   * An address on every interface (`0.0.0.0`, `::`) is shown with this machine's name.
   */
  instructions(): string[] {
    const everywhere = /^(0\.0\.0\.0|\[?::\]?)$/.test(this.host);
    const target = everywhere ? `${Deno.hostname()}:${this.port}` : this.address;
    return [`gdb ${this.program}`, `(gdb) target remote ${target}`, "(gdb) continue"];
  }

  /**
   * Call before wrapp sends `signal` to the service. A traced process only acts on a
   * signal once its tracer lets it, so gdbserver is ended first (which detaches it)
   * for SIGKILL, and for SIGTERM/SIGINT when no debugger is connected to pass them on:
   * a held service then stops at once. With a debugger connected, the signal reaches
   * the service through it, as with any debugged process.
   *
   * Resolves once gdbserver is gone when it was ended for a stop signal: sent earlier,
   * the signal would stop the service for its dying tracer and be lost with it.
   * `undefined` when the signal may go at once.
   */
  beforeSignal(signal: Deno.Signal): Promise<void> | undefined {
    if (signal === "SIGKILL" || (STOP_SIGNALS.includes(signal) && !this.connected)) {
      if (!this.#running) return undefined;
      killProcess(this.#gdbserver);
      return signal === "SIGKILL" ? undefined : this.#exited;
    }
    return undefined;
  }

  /**
   * The service ended: wait until gdbserver is gone. It exits by itself once its process
   * is gone; it is ended only if it has not after `_EXIT_GRACE_MS`.
   * Killed at once, it could die between letting a debugger's detach go (the service then
   * runs to its end in a moment) and answering it: gdb said "Remote connection closed".
   */
  async stop(): Promise<void> {
    if (this.#running && await raceTimeout([this.#exited], _EXIT_GRACE_MS) === "timeout") {
      killProcess(this.#gdbserver);
    }
    await this.#exited;
    await this.#lines;
  }
}

/**
 * Read what gdbserver says: when it listens (it says so when it starts, and again after
 * wrapp's own client left), and, once settled, a debugger connecting or leaving.
 */
function _watchGdbserver(
  gdbserver: Deno.ChildProcess,
  pid: number,
  address: string,
  options: ServiceDebugOptions & { log: DebugLog },
): {
  state: { connected: boolean; settled: boolean };
  listens: PromiseWithResolvers<void>[];
  said: string[];
  lines: Promise<void>;
} {
  // Until settled, the client is wrapp itself (see settleForDebugger): not news.
  const state = { connected: false, settled: false };
  // gdbserver says "Listening on port N" when it starts, and again after wrapp left.
  const listens = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  let listened = 0;
  const said: string[] = [];
  const lines = readLines(gdbserver.stderr, (line) => {
    options.log(`gdbserver: ${line}`);
    said.push(line);
    if (/^Listening on port \d+/.test(line)) listens[listened++]?.resolve();
    const from = /^Remote debugging from host (\S+?),? port (\d+)/.exec(line);
    if (!state.settled) return;
    if (from) {
      state.connected = true;
      options.onNews?.(`a debugger connected to ${options.name} from ${from[1]}`, {
        pid,
        debugger_host: from[1],
      });
    } else if (/^Remote side has terminated connection/.test(line)) {
      state.connected = false;
      options.onNews?.(
        `the debugger left ${options.name}; gdbserver waits for another on ${address}`,
        { pid },
      );
    }
  });
  return { state, listens, said, lines };
}

/** `host:port`, with an IPv6 address in brackets as gdb and gdbserver want it. */
function _address(debug: DebugConfig): string {
  const host = debug.host.includes(":") && !debug.host.startsWith("[")
    ? `[${debug.host}]`
    : debug.host;
  return `${host}:${debug.port}`;
}
