/**
 * The fields of a `/proc/<pid>/stat` line (proc(5)).
 *
 * @module
 */

/** Linux's `USER_HZ`: the unit of the times in `/proc/<pid>/stat`, on every architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The fields after the process name: `[0]` is field 3 (state), `[1]` field 4 (ppid),
 * so field N of proc(5) is `[N - 3]`. The name, field 2, is in parentheses and may hold
 * spaces and ")" itself, so the fields start after the last ")". Undefined when the text
 * has none (not a stat line).
 */
export function procStatFields(text: string): string[] | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  return text.slice(close + 2).split(" ");
}
