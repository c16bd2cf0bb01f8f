/**
 * The V8 flags `deno compile` bakes into the binary; the benchmarks run ours with them too, so
 * they measure what a user runs.
 *
 * @module
 */

/**
 * V8 flags baked into the binary.
 *
 * - A young generation of at most 2 MiB per semi-space. At 8 MiB it had lowered the peak RSS
 *   of 1M lines through `wrapp run` from 284 to 224 MiB; once the Redis sink stopped making
 *   ~4 kB of garbage per line, 4 MiB measured 101-105 MiB against 107-121 at 8. At 2 MiB (the
 *   bundle, alternated runs): 1000 lines/s keeps 3.5-4 MiB less RSS (65.1-68.0 against
 *   69.2-71.6, 17 pairs) for the same CPU within the noise (medians 126 and 137 clock ticks in
 *   10 s; 2 MiB used less in 8 of the 17 pairs), `seq 1000000` peaks ~4 MiB lower (median 83.7
 *   against 88.0 MiB) for 5-6 % more CPU (more, shorter scavenges); idle, start-up and its GCs
 *   are the same. At 1 MiB, 1000 lines/s kept 1-1.5 MiB less again but took more CPU (median
 *   154 ticks against 133 at 4 MiB, 5 pairs).
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
  "--max-semi-space-size=2",
  "--heap-growing-percent=50",
  "--gc-memory-reducer-start-delay-ms=5000",
];
