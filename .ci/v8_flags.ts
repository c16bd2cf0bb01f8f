/**
 * The V8 flags `deno compile` bakes into the binary; the benchmarks run ours with them too, so
 * they measure what a user runs.
 *
 * @module
 */

/**
 * V8 flags baked into the binary. A young generation of at most 8 MiB per semi-space
 * lowered the peak RSS of 1M lines through `wrapp run` from 284 to 224 MiB at the same
 * wall time (CPU within the noise, +3 % median); no flag measured changed an idle
 * wrapp's RSS (README, "What wrapp costs").
 */
export const V8_FLAGS: string[] = ["--max-semi-space-size=8"];
