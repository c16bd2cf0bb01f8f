/**
 * The V8 flags `deno compile` bakes into the binary; the benchmarks run ours with them too, so
 * they measure what a user runs.
 *
 * @module
 */

/**
 * V8 flags baked into the binary.
 *
 * - A young generation of at most 8 MiB per semi-space lowered the peak RSS of 1M lines
 *   through `wrapp run` from 284 to 224 MiB at the same wall time (CPU within the noise,
 *   +3 % median).
 * - V8's memory reducer, which shrinks the heap once the program goes quiet, starts 30 s
 *   after the isolate by default: an idle wrapp kept 1.7 MiB more anonymous memory for its
 *   first ~35 s. Started after 5 s, ten idle wrapps measured 210.8-211.6 → 194.9-196.9 MiB
 *   PSS 20-30 s after their start (two alternated runs each), the same steady state a
 *   minute in, and no change in CPU or peak at 1000 lines/s or under `seq`.
 */
export const V8_FLAGS: string[] = [
  "--max-semi-space-size=8",
  "--gc-memory-reducer-start-delay-ms=5000",
];
