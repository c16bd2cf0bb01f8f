/**
 * The few glibc functions the core calls through Deno FFI, opened once on first use:
 * `malloc_trim` (`heap_trimmer.ts`), `open`/`pwrite`/`close` (`overwriter.ts`), and what
 * starts and reads a child without Deno's process and stream machinery (`posix_spawn.ts`,
 * `fd_poller.ts`, `fd_reader.ts`, `send_signal.ts`). The eBPF loader has its own set
 * (`pipeline/bpf/native/libc.ts`).
 *
 * @module
 */

const _SYMBOLS = {
  malloc_trim: { parameters: ["usize"], result: "i32" },
  // open(2) is variadic; without O_CREAT it reads no mode, and integers travel in the same
  // registers either way on x86_64 and aarch64 Linux.
  open: { parameters: ["buffer", "i32"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  // fcntl(2) is variadic too: F_SETFL's argument is an int.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // pidfd_open(2) has no glibc wrapper before 2.36.
  syscall2: { name: "syscall", parameters: ["i64", "i64", "i64"], result: "i64" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  // On Deno's blocking pool: it sleeps until a descriptor is ready.
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  // glibc 2.29+: missing on an older one, where children are started the portable way.
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The opened functions. */
export type Glibc = Deno.DynamicLibrary<typeof _SYMBOLS>["symbols"];

let _glibc: Glibc | null | undefined;

/**
 * glibc's functions, or `undefined` when they cannot be had (another C library, or FFI not
 * permitted): every caller then does without, the way it did before.
 */
export function glibc(): Glibc | undefined {
  if (_glibc === undefined) {
    try {
      _glibc = Deno.dlopen("libc.so.6", _SYMBOLS).symbols;
    } catch {
      _glibc = null;
    }
  }
  return _glibc ?? undefined;
}

/** The calling thread's errno, read right after a failed synchronous call. */
export function glibcErrno(c: Glibc): number {
  const where = c.__errno_location();
  return where === null ? 0 : new Deno.UnsafePointerView(where).getInt32();
}
