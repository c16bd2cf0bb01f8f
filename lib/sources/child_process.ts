/**
 * The supervised program: spawned in its own session and process group, stdin passed
 * through, stdout and stderr piped to wrapp as bytes.
 *
 * @module
 */

import { describeCause, SpawnError } from "../errors.ts";
import type { ExitStatus } from "../supervise/signals.ts";

/** What to run. */
export interface ChildSpec {
  /** Absolute path of the program. */
  executable: string;
  /** Its arguments. */
  args: readonly string[];
  /** Working directory. */
  cwd: string;
  /** Environment variables to set (on top of wrapp's own unless `clearEnv`). */
  env: Readonly<Record<string, string>>;
  /** Start from an empty environment. */
  clearEnv: boolean;
  /** Command prefix that switches user (`setpriv … --`), when needed. */
  prefix?: readonly string[];
}

/** A running child. */
export interface RunningChild {
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /** Its stdout bytes. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** Its stderr bytes. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves when it exits. */
  readonly status: Promise<ExitStatus>;
  /** Send a signal to its whole process group; false when it is already gone. */
  signalGroup(signal: Deno.Signal): boolean;
}

/**
 * Start the program. It gets its own session (so a terminal's Ctrl-C reaches only
 * wrapp, which forwards it once) and process group (so stopping reaches every
 * process it started, like supervisord's killasgroup).
 */
export function spawnChild(spec: ChildSpec): RunningChild {
  const [program, ...prefixArgs] = spec.prefix?.length ? spec.prefix : [spec.executable];
  const args = spec.prefix?.length
    ? [...prefixArgs, spec.executable, ...spec.args]
    : [...spec.args];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: spec.cwd,
      env: { ...spec.env },
      clearEnv: spec.clearEnv,
      stdin: "inherit",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (error) {
    throw new SpawnError(`Cannot start "${spec.executable}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  const pid = child.pid;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s.signal ? { signal: s.signal } : { code: s.code };
  });
  return {
    pid,
    stdout: child.stdout,
    stderr: child.stderr,
    status,
    signalGroup(signal) {
      if (exited) return false;
      try {
        Deno.kill(-pid, signal);
        return true;
      } catch {
        // The group may be gone between the exit and our check; the leader alone may remain.
        try {
          Deno.kill(pid, signal);
          return true;
        } catch {
          return false;
        }
      }
    },
  };
}
