/**
 * Start a command stopped just before its `execve`, so a tracer can attach to its pid
 * and miss none of its syscalls, then let it go.
 *
 * The command runs as `/bin/sh -c 'kill -STOP $$ && exec "$@"' wrapp-trace PROGRAM ARGS…`:
 * the shell stops itself; once the tracer is attached, {@linkcode StoppedChild.resume}
 * sends SIGCONT and the shell replaces itself with the program, keeping the pid. The
 * traced calls therefore start with that `execve`, as with strace. The program is
 * resolved to an absolute path first, so the shell makes no PATH search (no failed
 * `execve` calls in the trace) and a missing program is reported before anything starts.
 *
 * The child stays in wrapp's process group, with wrapp's stdin, stdout and stderr, so a
 * terminal's Ctrl-C reaches it as it would without wrapp.
 *
 * @module
 */

import { describeCause, SpawnError } from "../../core/errors.ts";
import { findExecutable } from "../../core/find_executable.ts";
import type { ExitStatus } from "../../core/signals.ts";
import { delay } from "../../core/timers.ts";
import { procStatFields } from "../../core/proc_stat.ts";
import { tracerPid } from "../../core/tracer_pid.ts";

/** A child waiting (stopped) to exec its program. */
export interface StoppedChild {
  /** Its pid, which the program keeps after exec. */
  readonly pid: number;
  /** Absolute path of the program it will exec. */
  readonly executable: string;
  /** Resolves when it exits. */
  readonly status: Promise<ExitStatus>;
  /** Let it exec the program (SIGCONT). */
  resume(): void;
  /** Send it a signal; false when it is already gone. */
  kill(signal: Deno.Signal): boolean;
  /** Its stdout and stderr, with `output: "piped"` (read them, or it blocks). */
  readonly stdout?: ReadableStream<Uint8Array>;
  readonly stderr?: ReadableStream<Uint8Array>;
}

/** Options for {@linkcode spawnStopped}. */
export interface SpawnStoppedOptions {
  /** Working directory. Default: wrapp's. */
  cwd?: string;
  /** How long to wait for the shell to stop itself, ms. Default 10000. */
  timeoutMs?: number;
  /**
   * Start it in its own session and process group, so a terminal's Ctrl-C reaches only
   * wrapp and `kill(-pid)` reaches everything it starts. Default false.
   */
  detached?: boolean;
  /** Its stdout and stderr: wrapp's (`"inherit"`, the default), `"piped"` or `"null"`. */
  output?: "inherit" | "piped" | "null";
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** The shell script: stop, then become the program. `$$` is the shell's own pid. */
const _SCRIPT = 'kill -STOP $$ && exec "$@"';

/**
 * Spawn `command ARGS…` stopped before exec and resolve once it is stopped. Throws a
 * {@linkcode SpawnError} (exit 127) when the program cannot be found or the shell
 * cannot start.
 */
export async function spawnStopped(
  command: string,
  args: readonly string[],
  options: SpawnStoppedOptions = {},
): Promise<StoppedChild> {
  const executable = await findExecutable(command, { cwd: options.cwd });
  if (executable === undefined) {
    throw new SpawnError(
      command.includes("/")
        ? `Cannot start "${command}": no executable file there`
        : `Cannot start "${command}": not found in PATH`,
    );
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", _SCRIPT, "wrapp-trace", executable, ...args],
      cwd: options.cwd,
      env: options.env,
      stdin: options.detached ? "null" : "inherit",
      stdout: options.output ?? "inherit",
      stderr: options.output ?? "inherit",
      detached: options.detached ?? false,
    }).spawn();
  } catch (error) {
    throw new SpawnError(`Cannot start "${command}": ${describeCause(error)}`, { cause: error });
  }
  let exited = false;
  const status = child.status.then((s): ExitStatus => {
    exited = true;
    return s.signal ? { signal: s.signal } : { code: s.code };
  });
  const kill = (signal: Deno.Signal) => {
    if (exited) return false;
    try {
      child.kill(signal);
      return true;
    } catch {
      return false;
    }
  };

  const stopped = await waitUntilStopped(child.pid, () => exited, options.timeoutMs ?? 10_000);
  if (stopped !== true && !exited) {
    kill("SIGKILL");
    throw new SpawnError(`Cannot start "${command}" held before its exec: the launcher ${stopped}`);
  }
  if (exited) {
    const s = await status;
    throw new SpawnError(
      `Cannot start "${command}": the launcher ended before exec (${
        s.signal ? `signal ${s.signal}` : `exit code ${s.code}`
      })`,
    );
  }
  return {
    pid: child.pid,
    executable,
    status,
    resume: () => void kill("SIGCONT"),
    kill,
    ...(options.output === "piped" ? { stdout: child.stdout, stderr: child.stderr } : {}),
  };
}

/**
 * Put in front of a command (after any prefix that keeps the pid, such as prlimit or
 * setpriv) to have it stop itself just before exec'ing the program: the same hold as
 * {@linkcode spawnStopped}, for a child started another way. Resume it with SIGCONT.
 */
export const HOLD_BEFORE_EXEC: readonly string[] = ["/bin/sh", "-c", _SCRIPT, "wrapp-hold"];

/**
 * Wait until `pid` is stopped (state `T`): true; otherwise why not, as the end of a
 * sentence ("ended", "did not stop within 10 s", "is traced by pid 42 …"). A traced process
 * (`strace -f` on wrapp) that stops itself reads `t`, as at each of its syscalls, never
 * `T`: waiting for it would only time out, so that is said at once.
 */
export async function waitUntilStopped(
  pid: number,
  gone: () => boolean,
  timeoutMs: number,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  while (!gone()) {
    const state = await processState(pid);
    if (state === "T") return true;
    const tracer = state === "t" ? tracerPid(pid) : 0;
    if (tracer !== 0) {
      return `is traced by pid ${tracer} (strace -f?), so its stop cannot be seen in /proc`;
    }
    if (Date.now() > deadline) return `did not stop within ${timeoutMs / 1000} s`;
    await delay(2);
  }
  return "ended";
}

/** State letter of a process from `/proc/<pid>/stat` (`R`, `S`, `T`…), or undefined when gone. */
export async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return procStatFields(stat)?.[0] || undefined;
  } catch {
    return undefined;
  }
}
