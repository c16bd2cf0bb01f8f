/**
 * The few libc functions the native eBPF loader calls, through Deno FFI (`Deno.dlopen` of
 * glibc), opened once and on first use: `syscall` (for `bpf` and `perf_event_open`, which
 * glibc does not wrap), `ioctl`, `mmap`, `close`, `epoll_*`, `eventfd`, `read`, `write`.
 *
 * Every wrapper throws a {@linkcode SyscallError} carrying `errno` when the call fails.
 *
 * @module
 */

/** A failed system call: its name and errno. */
export class SyscallError extends Error {
  /** The errno (`EPERM` is 1). */
  readonly errno: number;
  /** The call, as in `bpf(BPF_PROG_LOAD)`. */
  readonly call: string;

  /** `call` failed with `errno`; `detail` is appended (a verifier log). */
  constructor(call: string, errno: number, detail = "") {
    super(`${call} failed: ${errnoName(errno)}${detail ? `: ${detail}` : ""}`);
    this.name = "SyscallError";
    this.call = call;
    this.errno = errno;
  }
}

const _ERRNO_NAMES: Record<number, string> = {
  1: "EPERM (operation not permitted)",
  2: "ENOENT (no such file or directory)",
  3: "ESRCH (no such process)",
  4: "EINTR (interrupted)",
  7: "E2BIG (argument list too long)",
  9: "EBADF (bad file descriptor)",
  11: "EAGAIN (try again)",
  12: "ENOMEM (out of memory)",
  13: "EACCES (permission denied)",
  14: "EFAULT (bad address)",
  16: "EBUSY (device or resource busy)",
  17: "EEXIST (file exists)",
  22: "EINVAL (invalid argument)",
  24: "EMFILE (too many open files)",
  28: "ENOSPC (no space left on device)",
  38: "ENOSYS (function not implemented)",
  95: "EOPNOTSUPP (operation not supported)",
};

/** `EPERM (operation not permitted)`, or `errno 42` for one not listed. */
export function errnoName(errno: number): string {
  return _ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** System call numbers that differ per architecture. */
export interface SyscallNumbers {
  /** `bpf(2)`. */
  bpf: number;
  /** `perf_event_open(2)`. */
  perfEventOpen: number;
}

/** The numbers of `bpf` and `perf_event_open` for `arch` (`Deno.build.arch`). */
export function syscallNumbers(arch: string = Deno.build.arch): SyscallNumbers {
  switch (arch) {
    case "x86_64":
      return { bpf: 321, perfEventOpen: 298 };
    case "aarch64":
      return { bpf: 280, perfEventOpen: 241 };
  }
  throw new RangeError(`No bpf syscall numbers for the architecture "${arch}"`);
}

const _SYMBOLS = {
  // syscall(2) is variadic; integer arguments travel in the same registers either way
  // on x86_64 and aarch64 Linux, and glibc's syscall reads none from the vector registers.
  syscall4: { name: "syscall", parameters: ["i64", "i64", "buffer", "i64"], result: "i64" },
  // perf_event_open(attr, pid, cpu, group_fd, flags), on a pool thread: placing a uprobe
  // takes 12-50 ms. errno is that thread's: repeat a failed call with syscall6 to read it.
  syscall6InPool: {
    name: "syscall",
    parameters: ["i64", "buffer", "i64", "i64", "i64", "i64"],
    result: "i64",
    nonblocking: true,
  },
  syscall6: {
    name: "syscall",
    parameters: ["i64", "buffer", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  // ioctl(2) is variadic too: the argument is an integer here.
  ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // For an fd whose close waits for RCU grace periods (a uprobe's perf event: 50-200 ms).
  closeInPool: { name: "close", parameters: ["i32"], result: "i32", nonblocking: true },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  getpagesize: { parameters: [], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The opened library. */
export type Libc = Deno.DynamicLibrary<typeof _SYMBOLS>["symbols"];

let _libc: Deno.DynamicLibrary<typeof _SYMBOLS> | undefined;

/**
 * glibc's functions, opened on first use. Throws an `Error` when it cannot be opened
 * (another C library, or FFI not permitted).
 */
export function libc(): Libc {
  if (!_libc) {
    try {
      _libc = Deno.dlopen("libc.so.6", _SYMBOLS);
    } catch (error) {
      throw new Error(`Cannot open libc.so.6 through FFI: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return _libc.symbols;
}

/** The calling thread's errno, read right after a failed call. */
export function lastErrno(): number {
  const where = libc().__errno_location();
  return where === null ? 0 : new Deno.UnsafePointerView(where).getInt32();
}

/** The address of `buffer` as a number for a struct field (0 for an empty one). */
export function addressOf(buffer: Uint8Array<ArrayBuffer>): bigint {
  return buffer.byteLength === 0
    ? 0n
    : BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/** Check a libc result: `result` when not negative, else a {@linkcode SyscallError}. */
export function check(call: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw new SyscallError(call, lastErrno());
  return n;
}

/** Close `fd`, ignoring a failure (an fd already closed). */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}
