/**
 * Text cut to a number of UTF-8 bytes, never inside a character, with a note saying how
 * much was left out: how gdb's output and backtrace texts stay within a stream entry.
 *
 * @module
 */

/** Cut `text` to at most `maxBytes` UTF-8 bytes, saying how much was left out. */
export function boundText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return { text, truncated: false };
  const note = `\n… [${bytes.length - maxBytes} more bytes cut]\n`;
  let end = Math.max(0, maxBytes - new TextEncoder().encode(note).length);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)) + note, truncated: true };
}
