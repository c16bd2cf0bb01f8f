/**
 * The few glibc functions the core calls through Deno FFI, opened once on first use:
 * `malloc_trim` (`heap_trimmer.ts`) and `open`/`pwrite`/`close` (`overwriter.ts`). The eBPF
 * loader has its own set (`pipeline/bpf/native/libc.ts`).
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
