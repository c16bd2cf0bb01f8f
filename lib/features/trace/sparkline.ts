/**
 * A sparkline: numbers as a row of block characters, the tallest for the largest.
 *
 * @module
 */

const _BLOCKS = "▁▂▃▄▅▆▇█";

/**
 * The last `width` values as block characters scaled to `max` (default: the largest of
 * them), right-aligned: padding on the left while there are fewer values than columns.
 * Zero is a space, so idle periods read as gaps; any value above zero gets at least `▁`.
 */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  if (width <= 0) return "";
  const shown = values.slice(Math.max(0, values.length - width));
  const top = max ?? shown.reduce((a, b) => Math.max(a, b), 0);
  let line = " ".repeat(width - shown.length);
  for (const value of shown) {
    if (!(value > 0) || !(top > 0)) {
      line += " ";
      continue;
    }
    const level = Math.min(_BLOCKS.length - 1, Math.ceil((value / top) * _BLOCKS.length) - 1);
    line += _BLOCKS[Math.max(0, level)];
  }
  return line;
}
