/**
 * The supervised program: spawned in its own session and process group, stdin passed
 * through, stdout and stderr piped to wrapp as bytes.
 *
 * @module
 */

import { describeCause, SpawnError } from "../../core/errors.ts";
import type { ExitStatus } from "../../core/signals.ts";
import { findExecutableSync } from "../../core/find_executable.ts";

/** What to run. */
export interface ChildSpec {
  /** Absolute path of the program. */
  executable: string;
  /** Its arguments. */
  args: readonly string[];
  /** Working directory. */
  cwd: string;
  /** Environment variables to set (on top of wrapp's own, less its secrets, unless `clearEnv`). */
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
  /**
   * Send a signal to its whole process group — also after it exited, to the processes
   * it started that are still in the group; false when none of them is left.
   */
  signalGroup(signal: Deno.Signal): boolean;
}

/**
 * Whether `name` is one of wrapp's own secrets (`WRAPP_REDIS_PASSWORD`, or any `WRAPP_*`
 * variable named like a password, secret, token, credential or key): they are for wrapp,
 * and never reach the service through the inherited environment.
 */
export function isWrappSecret(name: string): boolean {
  return /^WRAPP_/i.test(name) &&
    /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|(^|_)(API_)?KEY(_|$)/i.test(name);
}

/** wrapp's environment without its secrets ({@linkcode isWrappSecret}). */
export function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !isWrappSecret(name)),
  );
}

let _setsid: string | null | undefined;

/** util-linux `setsid`, when installed (it is wherever `setpriv` is); looked for once. */
function _setsidPath(): string | null {
  if (_setsid === undefined) {
    _setsid = findExecutableSync("setsid", { path: "/usr/bin:/bin" }) ?? null;
  }
  return _setsid;
}

/**
 * Start the program. It gets its own session (so a terminal's Ctrl-C reaches only
 * wrapp, which forwards it once) and process group (so stopping reaches every
 * process it started, like supervisord's killasgroup).
 *
 * The session comes from a `setsid` in front, which keeps the pid and execs the rest:
 * Deno's `detached` calls setsid between a fork and the exec, and that fork of wrapp held
 * its event loop 5-18 ms at every start, where a plain spawn (vfork) takes about 1 ms.
 * Without `setsid` installed, `detached` it is.
 */
export function spawnChild(spec: ChildSpec): RunningChild {
  const setsid = _setsidPath();
  const [first, ...rest] = spec.prefix ?? [];
  // setsid would search PATH with one failed exec per folder: it gets the program's path.
  const resolved = first === undefined || first.includes("/")
    ? first
    : findExecutableSync(first, { relativeFolders: "skip" });
  if (first !== undefined && resolved === undefined) {
    throw new SpawnError(`Cannot start "${spec.executable}": "${first}" is not in PATH`);
  }
  const prefix = [...setsid ? [setsid] : [], ...resolved === undefined ? [] : [resolved, ...rest]];
  const [program, ...prefixArgs] = prefix.length ? prefix : [spec.executable];
  const args = prefix.length ? [...prefixArgs, spec.executable, ...spec.args] : [...spec.args];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: spec.cwd,
      // Always built here, never inherited as a whole: wrapp's secrets stay with wrapp.
      env: spec.clearEnv ? { ...spec.env } : { ...inheritedEnv(), ...spec.env },
      clearEnv: true,
      stdin: "inherit",
      stdout: "piped",
      stderr: "piped",
      detached: setsid === null,
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
      try {
        Deno.kill(-pid, signal);
        return true;
      } catch {
        if (exited) return false; // and its group is empty
        // The leader may have left its group (setpgid): it alone may remain.
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
