/**
 * Starting a program with glibc's `posix_spawn` through FFI: in a session of its own (so a
 * process group of its own), stdout and stderr into pipes read with {@linkcode fdReader},
 * stdin inherited, every signal at its default and none blocked, its end seen through a
 * pidfd and {@linkcode FdPoller}.
 *
 * Why not `Deno.Command`: its first use loads Deno's process, fetch-body and web-stream code
 * (a one-line service's start and exit took 18 ms longer with it, alternated runs of a bare
 * script), its pipes are read through a ReadableStream, and a session needs either its
 * `detached` (a fork of all of wrapp: 5-18 ms) or a `setsid` exec in front. Here glibc's
 * `clone(CLONE_VM | CLONE_VFORK)` copies nothing, `POSIX_SPAWN_SETSID` makes the session,
 * and a child is a pid and three descriptors.
 *
 * @module
 */

import type { ByteReader } from "./byte_reader.ts";
import { type FdPoller, fdPoller } from "./fd_poller.ts";
import { fdReader } from "./fd_reader.ts";
import { type Glibc, glibc, glibcErrno } from "./glibc.ts";
import { type ExitStatus, SIGNAL_NUMBERS } from "./signals.ts";

/** What to start. */
export interface SpawnSpec {
  /** The program, as a path (no PATH search). */
  path: string;
  /** Its arguments, `argv[0]` first. */
  argv: readonly string[];
  /** Its whole environment. */
  env: Readonly<Record<string, string>>;
  /** Its working directory. */
  cwd: string;
}

/** A program started by {@linkcode posixSpawn}. */
export interface SpawnedProcess {
  /** Its pid, also its session and process group id. */
  pid: number;
  /** Its stdout. */
  stdout: ByteReader;
  /** Its stderr. */
  stderr: ByteReader;
  /** Its end (it is reaped then). */
  status: Promise<ExitStatus>;
}

const _O_CLOEXEC = 0o2000000;
const _O_NONBLOCK = 0o4000;
const _F_SETFL = 4;
const _WNOHANG = 1;
const _PIDFD_OPEN = 434n; // the same number on every architecture
const _POSIX_SPAWN_SETSIGDEF = 0x04;
const _POSIX_SPAWN_SETSIGMASK = 0x08;
const _POSIX_SPAWN_SETSID = 0x80;
// Opaque glibc structs, larger than they are on any 64-bit glibc (80, 336 and 128 bytes).
const _FILE_ACTIONS_BYTES = 256;
const _ATTR_BYTES = 1024;
const _SIGSET_BYTES = 128;

const _ERRNO_TEXT: Record<number, string> = {
  1: "operation not permitted",
  2: "no such file or directory",
  7: "argument list too long",
  8: "exec format error",
  12: "out of memory",
  13: "permission denied",
  20: "not a directory",
  24: "too many open files",
  26: "text file busy",
  38: "function not implemented",
  40: "too many levels of symbolic links",
};

/** `no such file or directory (errno 2)`. */
function _describeErrno(errno: number): string {
  return `${_ERRNO_TEXT[errno] ?? "error"} (errno ${errno})`;
}

let _usable: boolean | undefined;

/**
 * The glibc and poller {@linkcode posixSpawn} needs, or undefined where it cannot work
 * (another C library or a glibc before 2.29, FFI not permitted, a kernel without pidfds):
 * start children the portable way there.
 */
export function posixSpawner(): { c: Glibc; poller: FdPoller } | undefined {
  const c = glibc();
  const poller = fdPoller();
  if (!c || !poller || !c.posix_spawn_file_actions_addchdir_np) return undefined;
  if (_usable === undefined) {
    const pidfd = Number(c.syscall2(_PIDFD_OPEN, BigInt(Deno.pid), 0n));
    _usable = pidfd >= 0;
    if (_usable) c.close(pidfd);
  }
  return _usable ? { c, poller } : undefined;
}

/** A NUL-terminated copy of `text`. */
function _cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

/** A NULL-terminated array of pointers to `strings` (which must outlive its use). */
function _pointerArray(strings: readonly Uint8Array<ArrayBuffer>[]): BigUint64Array<ArrayBuffer> {
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((string, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(string)));
  });
  return array;
}

/** Two pipes' descriptors, `[read, write]` each; our read ends non-blocking. */
function _pipes(c: Glibc, count: number): number[][] {
  const pipes: number[][] = [];
  try {
    for (let i = 0; i < count; i++) {
      const fds = new Int32Array(2);
      if (c.pipe2(fds, _O_CLOEXEC) !== 0) {
        throw new Error(`pipe2: ${_describeErrno(glibcErrno(c))}`);
      }
      pipes.push([fds[0], fds[1]]);
      // The child's end stays blocking: a program writing to a full pipe waits, as it should.
      if (c.fcntl(fds[0], _F_SETFL, _O_NONBLOCK) !== 0) {
        throw new Error(`fcntl: ${_describeErrno(glibcErrno(c))}`);
      }
    }
    return pipes;
  } catch (error) {
    for (const fd of pipes.flat()) c.close(fd);
    throw error;
  }
}

/** `{ code }` or `{ signal }` from a waitpid status. */
function _exitStatus(status: number): ExitStatus {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff };
  const name = Object.keys(SIGNAL_NUMBERS).find((key) => SIGNAL_NUMBERS[key] === signal);
  return name ? { signal: name as Deno.Signal } : { code: 128 + signal };
}

/** Resolves when `pid` has ended, reaping it; `pidfd` is closed then. */
async function _waitForExit(
  c: Glibc,
  poller: FdPoller,
  pid: number,
  pidfd: number,
): Promise<ExitStatus> {
  const status = new Int32Array(1);
  try {
    while (true) {
      const reaped = c.waitpid(pid, status, _WNOHANG);
      if (reaped === pid) return _exitStatus(status[0]);
      if (reaped < 0) throw new Error(`waitpid(${pid}): ${_describeErrno(glibcErrno(c))}`);
      await poller.readable(pidfd); // a pidfd turns readable when its process ends
    }
  } finally {
    poller.forget(pidfd);
    c.close(pidfd);
  }
}

/**
 * Why `spec` cannot start, seen before it is spawned: glibc learns that the exec failed
 * through memory the child shares, which qemu-user (the aarch64 test lane) does not share.
 */
function _cannotStart(spec: SpawnSpec): string | undefined {
  const kind = (path: string) => {
    try {
      return Deno.statSync(path);
    } catch {
      return undefined;
    }
  };
  const cwd = kind(spec.cwd);
  if (!cwd?.isDirectory) {
    return `its working directory "${spec.cwd}" ${cwd ? "is not a directory" : "does not exist"}`;
  }
  const program = kind(spec.path);
  if (!program) return `"${spec.path}": ${_describeErrno(2)}`;
  if (!program.isFile || ((program.mode ?? 0) & 0o111) === 0) {
    return `"${spec.path}" is not an executable file`;
  }
  return undefined;
}

/**
 * Start `spec` (see the module documentation). Throws an `Error` saying why it could not
 * start: the program or its working directory is missing, its exec failed (`exec format
 * error (errno 8)`), or a pipe or pidfd could not be made.
 */
export function posixSpawn(c: Glibc, poller: FdPoller, spec: SpawnSpec): SpawnedProcess {
  const problem = _cannotStart(spec);
  if (problem) throw new Error(problem);
  const [out, err] = _pipes(c, 2);
  const actions = new Uint8Array(_FILE_ACTIONS_BYTES);
  const attr = new Uint8Array(_ATTR_BYTES);
  c.posix_spawn_file_actions_init(actions);
  let pid = -1;
  try {
    c.posix_spawn_file_actions_adddup2(actions, out[1], 1);
    c.posix_spawn_file_actions_adddup2(actions, err[1], 2);
    c.posix_spawn_file_actions_addchdir_np!(actions, _cString(spec.cwd));
    c.posix_spawnattr_init(attr);
    c.posix_spawnattr_setflags(
      attr,
      _POSIX_SPAWN_SETSID | _POSIX_SPAWN_SETSIGDEF | _POSIX_SPAWN_SETSIGMASK,
    );
    // Every signal back to its default (wrapp ignores SIGPIPE, as Rust programs do), none
    // blocked: signals 1-64 are the first 8 bytes of a sigset_t.
    const allSignals = new Uint8Array(_SIGSET_BYTES);
    allSignals.fill(0xff, 0, 8);
    c.posix_spawnattr_setsigdefault(attr, allSignals);
    c.posix_spawnattr_setsigmask(attr, new Uint8Array(_SIGSET_BYTES));
    const args = spec.argv.map(_cString);
    const env = Object.entries(spec.env).map(([name, value]) => _cString(`${name}=${value}`));
    const pidOut = new Int32Array(1);
    const failed = c.posix_spawn(
      pidOut,
      _cString(spec.path),
      actions,
      attr,
      _pointerArray(args),
      _pointerArray(env),
    );
    if (failed !== 0) throw new Error(`"${spec.path}": ${_describeErrno(failed)}`);
    pid = pidOut[0];
  } catch (error) {
    c.close(out[0]);
    c.close(err[0]);
    throw error;
  } finally {
    // The child has its copies (or none was made).
    c.posix_spawn_file_actions_destroy(actions);
    c.close(out[1]);
    c.close(err[1]);
  }
  const pidfd = Number(c.syscall2(_PIDFD_OPEN, BigInt(pid), 0n));
  if (pidfd < 0) {
    // It runs, but its end could not be seen: stop it rather than lose track of it.
    const errno = glibcErrno(c);
    c.kill(-pid, 9);
    c.waitpid(pid, new Int32Array(1), 0);
    c.close(out[0]);
    c.close(err[0]);
    throw new Error(`pidfd_open(${pid}): ${_describeErrno(errno)}`);
  }
  return {
    pid,
    stdout: fdReader(c, poller, out[0]),
    stderr: fdReader(c, poller, err[0]),
    status: _waitForExit(c, poller, pid, pidfd),
  };
}
