/**
 * Notices: one line for the operator on stderr, written synchronously so it lands
 * between the lines of a command's own output rather than inside one.
 *
 * @module
 */

const _encoder = new TextEncoder();

/** Write `text` and a newline to stderr. */
export function stderrNotice(text: string): void {
  const bytes = _encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
