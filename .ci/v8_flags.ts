/**
 * The V8 flags `deno compile` bakes into the binary; the benchmarks run ours with them too, so
 * they measure what a user runs.
 *
 * @module
 */

/**
 * V8 flags baked into the binary.
 *
 * - A young generation of at most 4 MiB per semi-space. At 8 MiB it had lowered the peak RSS
 *   of 1M lines through `wrapp run` from 284 to 224 MiB; once the Redis sink stopped making
 *   ~4 kB of garbage per line, 4 MiB measured 101-105 MiB against 107-121 at 8, with the same
 *   CPU under `seq` and at 1000 lines/s.
 * - The old generation may grow 1.5× between mark-compacts (V8 lets it grow up to 4×): under
 *   a burst the heap then stays near what is live. 1M lines through `wrapp run`: 83-87 MiB
 *   peak against 99-105, for 18 mark-compacts instead of 6 (32 ms of pauses against 13, on
 *   ~3.5 s of CPU); at 1000 lines/s the same GCs run either way (~93 scavenges and at most
 *   one mark-compact in 25 s). It is a pace, not a limit: the heap still grows as needed.
 * - V8's memory reducer, which shrinks the heap once the program goes quiet, starts 30 s
 *   after the isolate by default: an idle wrapp kept 1.7 MiB more anonymous memory for its
 *   first ~35 s. Started after 5 s, ten idle wrapps measured 210.8-211.6 → 194.9-196.9 MiB
 *   PSS 20-30 s after their start (two alternated runs each), the same steady state a
 *   minute in, and no change in CPU or peak at 1000 lines/s or under `seq`.
 */
export const V8_FLAGS: string[] = [
  "--max-semi-space-size=4",
  "--heap-growing-percent=50",
  "--gc-memory-reducer-start-delay-ms=5000",
];
