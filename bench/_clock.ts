/**
 * CLOCK_REALTIME in microseconds, the clock Python's `time.time_ns()` reads: a paced printer
 * stamps its lines with it and a reader in another process subtracts. Linux (glibc) only.
 *
 * @module
 */

const _libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
const _timespec = new BigInt64Array(2);
const _bytes = new Uint8Array(_timespec.buffer);

/** CLOCK_REALTIME (clock id 0) in microseconds. */
export function realtimeUs(): number {
  _libc.symbols.clock_gettime(0, _bytes);
  return Number(_timespec[0]) * 1_000_000 + Math.floor(Number(_timespec[1]) / 1000);
}
