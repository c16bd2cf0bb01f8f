/**
 * The supervised program: spawned in its own session and process group, stdin passed
 * through, stdout and stderr piped to wrapp as bytes.
 *
 * @module
 */

import { describeCause, SpawnError } from "../../core/errors.ts";
import type { ExitStatus } from "../../core/signals.ts";
import { findExecutableSync } from "../../core/find_executable.ts";
import { type ByteReader, streamByteReader } from "../../core/byte_reader.ts";
import { posixSpawn, posixSpawner } from "../../core/posix_spawn.ts";
import { sendSignal } from "../../core/send_signal.ts";

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
  /** Start it with `Deno.Command`, as where glibc cannot be used through FFI. */
  portable?: boolean;
}

/** A running child. */
export interface RunningChild {
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /** Its stdout bytes. */
  readonly stdout: ByteReader;
  /** Its stderr bytes. */
  readonly stderr: ByteReader;
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

/** A started child before its group signalling is added. */
interface _Started {
  pid: number;
  stdout: ByteReader;
  stderr: ByteReader;
  status: Promise<ExitStatus>;
}

/**
 * Start the program. It gets its own session (so a terminal's Ctrl-C reaches only
 * wrapp, which forwards it once) and process group (so stopping reaches every
 * process it started, like supervisord's killasgroup).
 *
 * With glibc it is started through FFI (`core/posix_spawn.ts`: no Deno process or stream
 * code loaded, the session made by posix_spawn itself). Elsewhere, or with `portable`, by
 * `Deno.Command`, with a `setsid` in front for the session, which keeps the pid and execs
 * the rest: Deno's `detached` calls setsid between a fork and the exec, and that fork of
 * wrapp held its event loop 5-18 ms at every start, where a plain spawn (vfork) takes
 * about 1 ms. Without `setsid` installed, `detached` it is.
 */
export function spawnChild(spec: ChildSpec): RunningChild {
  const [first, ...rest] = spec.prefix ?? [];
  // The exec gets a path: setsid, or glibc's posix_spawnp, would try one folder after another.
  const resolved = first === undefined || first.includes("/")
    ? first
    : findExecutableSync(first, { relativeFolders: "skip" });
  if (first !== undefined && resolved === undefined) {
    throw new SpawnError(`Cannot start "${spec.executable}": "${first}" is not in PATH`);
  }
  const command = resolved === undefined
    ? [spec.executable, ...spec.args]
    : [resolved, ...rest, spec.executable, ...spec.args];
  // Always built here, never inherited as a whole: wrapp's secrets stay with wrapp.
  const env = spec.clearEnv ? { ...spec.env } : { ...inheritedEnv(), ...spec.env };
  const spawner = spec.portable ? undefined : posixSpawner();
  let child: _Started;
  try {
    child = spawner
      ? _spawnThroughGlibc(spawner, command, env, spec.cwd)
      : _spawnThroughDeno(command, env, spec.cwd);
  } catch (error) {
    throw new SpawnError(`Cannot start "${spec.executable}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  const { pid } = child;
  let exited = false;
  const status = child.status.then((exit) => {
    exited = true;
    return exit;
  });
  return {
    pid,
    stdout: child.stdout,
    stderr: child.stderr,
    status,
    signalGroup(signal) {
      try {
        sendSignal(-pid, signal);
        return true;
      } catch {
        if (exited) return false; // and its group is empty
        // The leader may have left its group (setpgid): it alone may remain.
        try {
          sendSignal(pid, signal);
          return true;
        } catch {
          return false;
        }
      }
    },
  };
}

/** posix_spawn through FFI, the program found in PATH when it is a bare name. */
function _spawnThroughGlibc(
  spawner: NonNullable<ReturnType<typeof posixSpawner>>,
  command: readonly string[],
  env: Record<string, string>,
  cwd: string,
): _Started {
  const [program] = command;
  const path = program.includes("/")
    ? program
    : findExecutableSync(program, { relativeFolders: "skip" });
  if (path === undefined) throw new Error(`"${program}" is not in PATH`);
  return posixSpawn(spawner.c, spawner.poller, { path, argv: command, env, cwd });
}

/** Deno.Command, behind `setsid` (else `detached`) for the session. */
function _spawnThroughDeno(
  command: readonly string[],
  env: Record<string, string>,
  cwd: string,
): _Started {
  const setsid = _setsidPath();
  const [program, ...args] = setsid ? [setsid, ...command] : command;
  const child = new Deno.Command(program, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "inherit",
    stdout: "piped",
    stderr: "piped",
    detached: setsid === null,
  }).spawn();
  return {
    pid: child.pid,
    stdout: streamByteReader(child.stdout),
    stderr: streamByteReader(child.stderr),
    status: child.status.then((s) => s.signal ? { signal: s.signal } : { code: s.code }),
  };
}
