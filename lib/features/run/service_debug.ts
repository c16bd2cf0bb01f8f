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
import {
  GDB_SIGNAL_CONT,
  GDB_SIGNAL_STOP,
  GDB_SIGNAL_TRAP,
  GdbRemote,
  type StopReply,
} from "./gdb_remote.ts";
import { STOP_SIGNALS } from "../../core/signals.ts";

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
    const program = await _stepThroughExec(options.gdbserver, pid, { timeoutMs, log });
    if (program === undefined) return undefined;
    log(`pid ${pid} stopped at the first instruction of ${program} in ${_since(started)} ms`);
    if (!await waitUntilStopped(pid, () => false, timeoutMs)) {
      throw new SidecarError(
        `Cannot hold "${options.name}" (pid ${pid}) for gdbserver: it did not stop after its exec`,
      );
    }

    const address = _address(debug);
    const gdbserver = await _spawnGdbserver(options.gdbserver, ["--attach", address, String(pid)], {
      stdin: "null",
    });
    // Until settled, the client is wrapp itself (see _settle): not news.
    const state = { connected: false, settled: false };
    // gdbserver says "Listening on port N" when it starts, and again after wrapp left.
    const listens = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    let listened = 0;
    const said: string[] = [];
    const lines = _readLines(gdbserver.stderr, (line) => {
      log(`gdbserver: ${line}`);
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
    const outcome = await _race(
      [
        listens[0].promise.then(() => "ready" as const),
        gdbserver.status.then(() => "exited" as const),
      ],
      timeoutMs,
    );
    if (outcome !== "ready") {
      _kill(gdbserver);
      await gdbserver.status;
      await lines;
      throw new SidecarError(
        `Cannot start gdbserver on "${address}" for "${options.name}" (pid ${pid}): ${
          outcome === "timeout" ? `it did not listen within ${timeoutMs} ms` : _explain(said, pid)
        }`,
      );
    }
    log(`gdbserver ${gdbserver.pid} listens on ${address} after ${_since(started)} ms`);
    try {
      await _race([_settle(debug, pid).then(() => listens[1].promise)], timeoutMs).then(
        (outcome) => {
          if (outcome === "timeout") throw new Error(`no answer within ${timeoutMs} ms`);
        },
      );
    } catch (error) {
      _kill(gdbserver);
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
    log(`pid ${pid} ready for a debugger after ${_since(started)} ms`);
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
      _kill(this.#gdbserver);
      return signal === "SIGKILL" ? undefined : this.#exited;
    }
    return undefined;
  }

  /** End gdbserver, if it still runs, and wait until it is gone. */
  async stop(): Promise<void> {
    if (this.#running) _kill(this.#gdbserver);
    await this.#exited;
    await this.#lines;
  }
}

/** `host:port`, with an IPv6 address in brackets as gdb and gdbserver want it. */
function _address(debug: DebugConfig): string {
  const host = debug.host.includes(":") && !debug.host.startsWith("[")
    ? `[${debug.host}]`
    : debug.host;
  return `${host}:${debug.port}`;
}

/**
 * Steps 1 and 2 of the module documentation: resolve to the program `pid` runs after its
 * exec, stopped at its first instruction and traced by nobody; `undefined` when it ended
 * before.
 */
async function _stepThroughExec(
  gdbserverPath: string,
  pid: number,
  options: { timeoutMs: number; log: DebugLog },
): Promise<string | undefined> {
  const gdbserver = await _spawnGdbserver(gdbserverPath, ["--attach", "-", String(pid)], {
    stdin: "piped",
    stdout: "piped",
  });
  const said: string[] = [];
  const lines = _readLines(gdbserver.stderr, (line) => {
    options.log(`gdbserver (exec): ${line}`);
    said.push(line);
  });
  const remote = new GdbRemote(gdbserver.stdout!, gdbserver.stdin!);
  const resume = async (request: string) => {
    const stop = await remote.resume(request);
    options.log(`gdbserver (exec): ${request} -> ${JSON.stringify(stop)}`);
    return stop;
  };
  const steps = async (): Promise<string | undefined> => {
    await remote.request("qSupported:multiprocess+;exec-events+");
    const first = await remote.request("?");
    if (/^[WX]/.test(first)) return undefined;
    let stop = await resume("c");
    // The shell's own SIGSTOP shows up once; other signals are passed on. The exec is an
    // exec event, or a plain SIGTRAP when gdbserver had not yet set its ptrace options
    // (it sets them lazily: both happen); nothing else traps in the shell.
    while (stop.kind === "stopped" && stop.exec === undefined && stop.signal !== GDB_SIGNAL_TRAP) {
      stop = await resume(_resumeWith(stop));
    }
    if (stop.kind !== "stopped") return undefined;
    const program = stop.exec ?? await Deno.readLink(`/proc/${pid}/exe`);
    // Delivered before the first instruction runs; detaching then leaves it stopped.
    Deno.kill(pid, "SIGSTOP");
    stop = await resume("c");
    while (stop.kind === "stopped" && stop.signal !== GDB_SIGNAL_STOP) {
      stop = await resume(_resumeWith(stop));
    }
    if (stop.kind !== "stopped") return undefined;
    await remote.request(`D;${pid.toString(16)}`);
    return program;
  };
  let outcome: string | undefined | "timeout";
  try {
    outcome = await _race([steps()], options.timeoutMs);
  } catch (error) {
    options.log(`gdbserver (exec): ${(error as Error).message}`);
    _kill(gdbserver);
    await gdbserver.status;
    await lines;
    const ended = await _gone(pid);
    if (ended) return undefined;
    throw new SidecarError(
      `Cannot attach gdbserver to pid ${pid}: ${
        said.length > 0 ? _explain(said, pid) : (error as Error).message
      }`,
      { cause: error },
    );
  } finally {
    await remote.close();
  }
  if (outcome === "timeout") {
    _kill(gdbserver);
    await gdbserver.status;
    await lines;
    throw new SidecarError(
      `Cannot attach gdbserver to pid ${pid}: it did not reach its exec within ${options.timeoutMs} ms`,
    );
  }
  await gdbserver.status;
  await lines;
  return outcome;
}

/**
 * Step 4, as gdbserver's first client on `debug.host:debug.port`. gdbserver attached to a
 * process in a job-control stop finds a SIGSTOP pending, which a debugger would pass on
 * at its first `continue`, stopping the service again and again. SIGCONT ends the stop
 * and discards that SIGSTOP; being traced, the service is not resumed but gets the
 * SIGCONT queued, which is taken here (the stops before it too), before its first
 * instruction runs.
 */
async function _settle(debug: DebugConfig, pid: number): Promise<void> {
  const hostname = debug.host === "0.0.0.0"
    ? "127.0.0.1"
    : /^\[?::\]?$/.test(debug.host)
    ? "::1"
    : debug.host.replace(/^\[(.*)\]$/, "$1");
  const connection = await Deno.connect({ hostname, port: debug.port });
  const remote = new GdbRemote(connection.readable, connection.writable);
  try {
    await remote.request("qSupported:multiprocess+");
    await remote.request("?");
    Deno.kill(pid, "SIGCONT");
    for (let stops = 0; stops < 8; stops++) {
      const stop = await remote.resume("c");
      if (stop.kind !== "stopped") throw new Error(`the service ended (${JSON.stringify(stop)})`);
      if (stop.signal === GDB_SIGNAL_CONT) return;
    }
    throw new Error("the SIGCONT never came back");
  } finally {
    await remote.close();
  }
}

/** `c`, or `Cxx` to pass on a signal that is not the hold's SIGSTOP (or a trap of ours). */
function _resumeWith(stop: Extract<StopReply, { kind: "stopped" }>): string {
  return stop.signal === GDB_SIGNAL_STOP || stop.signal === GDB_SIGNAL_TRAP || stop.signal === 0
    ? "c"
    : `C${stop.signal.toString(16).padStart(2, "0")}`;
}

/** Start gdbserver in its own session (a terminal's Ctrl-C is wrapp's to forward), dying with wrapp. */
async function _spawnGdbserver(
  gdbserver: string,
  args: string[],
  stdio: { stdin: "piped" | "null"; stdout?: "piped" },
): Promise<Deno.ChildProcess> {
  const setpriv = await findProgram("setpriv");
  const [program, ...rest] = setpriv
    ? [setpriv, "--pdeathsig", "KILL", gdbserver, ...args]
    : [gdbserver, ...args];
  try {
    return new Deno.Command(program, {
      args: rest,
      stdin: stdio.stdin,
      stdout: stdio.stdout ?? "null",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (error) {
    throw new SidecarError(`Cannot start gdbserver "${gdbserver}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Call `onLine` with each line of `stream` (the last one even without a newline). */
async function _readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") onLine(line.trim());
    }
  } catch {
    // The stream was cancelled or broke: what came is what there is.
  }
  if (rest.trim() !== "") onLine(rest.trim());
}

/** What gdbserver said went wrong, with a hint for a refused attach. */
function _explain(said: readonly string[], pid: number): string {
  const problem = said.find((line) => /^(Cannot|Can't|Couldn't|Error|error)/.test(line)) ??
    said.at(-1) ?? "it exited without a word";
  const hint = /Operation not permitted/.test(problem)
    ? ` (attaching to pid ${pid} needs root, or kernel.yama.ptrace_scope = 0)`
    : "";
  return `${problem.replace(/\.$/, "")}${hint}`;
}

/** Resolve to the first of `promises`, or `"timeout"` after `timeoutMs`. */
async function _race<T>(promises: Promise<T>[], timeoutMs: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      ...promises,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function _kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

async function _gone(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

function _since(start: number): number {
  return Math.round(performance.now() - start);
}
