/**
 * Durations on the command line: `30s`, `1.5s`, `500ms`, `250us` (or `µs`), `100ns`,
 * `2m`, `1h`, combinations such as `1m30s`, or a bare number of seconds; and in a config
 * (`"500ms"`, `"1m30s"`, see {@linkcode parseDurationMs}).
 *
 * @module
 */

import { UsageError } from "./errors.ts";

const _UNITS_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const _PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
// A config's durations, as the Go wrapp's configs write them: no ns or µs, no ".5s".
const _CONFIG_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Nanoseconds in a duration, or `undefined` when `text` is not one. Never negative.
 *
 * ```ts
 * parseDurationNs("1m30s"); // 90_000_000_000
 * parseDurationNs("2.5"); // 2_500_000_000 (seconds)
 * ```
 */
export function parseDurationNs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^(\d+(\.\d+)?|\.\d+)$/.test(trimmed)) return Math.round(Number(trimmed) * 1e9);
  const ns = _sumParts(trimmed, _PART, 1);
  return ns === undefined ? undefined : Math.round(ns);
}

/**
 * Milliseconds in a config's duration string (`"500ms"`, `"10s"`, `"1m30s"`, `"1.5h"`), or
 * `undefined` when `text` is not one: units `ms`, `s`, `m`, `h` only, nothing around them
 * (a config's bare number of seconds is a TOML number, not a string).
 */
export function parseDurationMs(text: string): number | undefined {
  const ms = _sumParts(text, _CONFIG_PART, 1e6);
  return ms === undefined ? undefined : Math.round(ms);
}

/**
 * The sum of the `<number><unit>` parts `text` is made of, in units of `unitNs` ns;
 * `undefined` when it is not only those.
 */
function _sumParts(text: string, part: RegExp, unitNs: number): number | undefined {
  if (text === "") return undefined;
  part.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    // Whole factors (1000 ms in a second), so no rounding error is added.
    total += Number(match[1]) * (_UNITS_NS[match[2]] / unitNs);
    end = part.lastIndex;
  }
  return end === text.length ? total : undefined;
}

/**
 * A duration flag's value in ns (`undefined` when the flag is absent). Throws
 * {@linkcode UsageError} naming the flag when it cannot be read or is below `minNs`.
 */
export function parseDurationFlag(
  flag: string,
  text: string | undefined,
  minNs: number,
): number | undefined {
  if (text === undefined) return undefined;
  const ns = parseDurationNs(text);
  if (ns === undefined) {
    throw new UsageError(
      `Invalid ${flag} "${text}": expected a duration such as 500ms, 10s, 2m or 250us`,
    );
  }
  if (ns < minNs) {
    throw new UsageError(`Invalid ${flag} "${text}": must be at least ${formatDurationNs(minNs)}`);
  }
  return ns;
}

/** A duration in ns for humans: `850 ns`, `12.3 µs`, `4.56 ms`, `1.234 s`. */
export function formatDurationNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)} ns`;
  if (abs < 1e6) return `${_significant(ns / 1e3)} µs`;
  if (abs < 1e9) return `${_significant(ns / 1e6)} ms`;
  return `${_significant(ns / 1e9)} s`;
}

function _significant(value: number): string {
  const abs = Math.abs(value);
  return value.toFixed(abs >= 100 ? 1 : abs >= 10 ? 2 : 3);
}
