/**
 * The name of a trace event made from a line of output: Perfetto shows names on one line
 * and lists them in tables, so a long or multi-line text is cut; the full text stays in
 * the event's `args.text`.
 *
 * @module
 */

/** Longest event name taken from a log line. */
export const MAX_TITLE_CHARS = 120;

/** First line of a text, cut to {@linkcode MAX_TITLE_CHARS} without splitting a surrogate pair. */
export function traceTitle(text: string): string {
  const newline = text.indexOf("\n");
  const line = newline < 0 ? text : text.slice(0, newline);
  if (line.length <= MAX_TITLE_CHARS) return line;
  let cut = MAX_TITLE_CHARS - 1;
  const code = line.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return line.slice(0, cut) + "…";
}
