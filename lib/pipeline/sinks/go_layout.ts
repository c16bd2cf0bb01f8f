/**
 * The texts of the `go` Redis layout: what the Go wrapp wrote in `message`, computed from
 * our events, so that a consumer written for the Go wrapp reads the same entries.
 *
 * - A line: Go-grammar markers removed, then trimmed of white space as Go's
 *   `strings.TrimSpace` does; an empty result is no entry at all.
 * - A run: `{{__NEW_RUN_<start>}}`, then, at its end, `Executable exited with code N.` and
 *   `{{__END_RUN_<end>_exit_<N>}}`, times in local time as `YYYY-MM-DD_HH-MM-SS` and N = -1
 *   for a service killed by a signal.
 *
 * @module
 */

import { removeGoMarkers } from "../transforms/extract_markers.ts";

/** Options of {@linkcode goLineText}. */
export interface GoLineOptions {
  /** Remove Go-grammar markers from the text. Default `true`. */
  removeMarkers?: boolean;
  /**
   * The event's `split`, for a line cut into parts: the line is trimmed as a whole, so
   * only the first part loses leading and only the last part trailing white space.
   */
  split?: { readonly part: number; readonly last: boolean };
}

/**
 * The `message` the go layout writes for a log event's `text` (a line or a whole block):
 * markers removed, then trimmed (inner newlines and indentation of a block stay).
 * `""` means no entry.
 */
export function goLineText(text: string, options: GoLineOptions = {}): string {
  const stripped = options.removeMarkers === false ? text : removeGoMarkers(text);
  const split = options.split;
  return trimGoSpace(stripped, {
    start: split === undefined || split.part === 1,
    end: split === undefined || split.last,
  });
}

/**
 * Whether UTF-16 code unit `code` is white space for Go's `unicode.IsSpace`: `\t \n \v \f
 * \r`, space, U+0085, U+00A0 and the separators (Z) U+1680, U+2000–U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000. Unlike JavaScript's `trim()`, U+FEFF is not and U+0085 is.
 */
export function isGoSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x85) return false;
  return code === 0x85 || code === 0xa0 || code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000;
}

/**
 * `text` without leading (`start`, default true) and trailing (`end`, default true) white
 * space as Go's `strings.TrimSpace` sees it (see {@linkcode isGoSpace}). A loop, not a
 * RegExp: `/\s+$/` is quadratic on a long run of inner spaces.
 */
export function trimGoSpace(
  text: string,
  options: { start?: boolean; end?: boolean } = {},
): string {
  let from = 0;
  let to = text.length;
  if (options.start !== false) { while (from < to && isGoSpace(text.charCodeAt(from))) from++; }
  if (options.end !== false) { while (to > from && isGoSpace(text.charCodeAt(to - 1))) to--; }
  return from === 0 && to === text.length ? text : text.slice(from, to);
}

/** `time` (ms since the epoch) in local time as the Go wrapp's separators write it: `2026-12-05_13-18-15`. */
export function goRunStamp(time: number): string {
  const date = new Date(time);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(date.getFullYear()).padStart(4, "0")}-${two(date.getMonth() + 1)}-${
    two(date.getDate())
  }_${two(date.getHours())}-${two(date.getMinutes())}-${two(date.getSeconds())}`;
}

/** The separator written when a run starts at `time`: `{{__NEW_RUN_2026-12-05_13-18-15}}`. */
export function goNewRun(time: number): string {
  return `{{__NEW_RUN_${goRunStamp(time)}}}`;
}

/** The separator written when a run ends at `time` with `code`: `{{__END_RUN_2026-12-05_13-18-17_exit_3}}`. */
export function goEndRun(time: number, code: number): string {
  return `{{__END_RUN_${goRunStamp(time)}_exit_${code}}}`;
}

/** The status line written when a run ends with `code`: `Executable exited with code 3.` */
export function goExitLine(code: number): string {
  return `Executable exited with code ${code}.`;
}

/**
 * The code the Go wrapp reports for the end of a run, from the fields of our `exit`
 * status event: `exit_code`, or -1 when a `signal` killed the service; undefined when
 * the event is not the end of a run (the service could not start).
 */
export function goExitCode(fields: Readonly<Record<string, unknown>>): number | undefined {
  if (fields.signal !== undefined) return -1;
  const code = fields.exit_code;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}
