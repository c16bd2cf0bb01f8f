/**
 * Inclusive ranges of sequence numbers, as the delivery ledger keeps and reports them.
 *
 * @module
 */

/** An inclusive range of sequence numbers, `[first, last]`. */
export type SeqRange = readonly [first: number, last: number];

/** `ranges` sorted, overlapping and adjacent ones joined. */
export function mergeRanges(ranges: SeqRange[]): SeqRange[] {
  const out: [number, number][] = [];
  for (const [first, last] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const tail = out.at(-1);
    if (tail !== undefined && first <= tail[1] + 1) tail[1] = Math.max(tail[1], last);
    else out.push([first, last]);
  }
  return out;
}

/** The part of `range` that `ranges` cover, as one range from its first to its last number. */
export function intersectRange(range: SeqRange, ranges: readonly SeqRange[]): SeqRange | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const [a, b] of ranges) {
    const from = Math.max(a, range[0]);
    const to = Math.min(b, range[1]);
    if (from > to) continue;
    first = Math.min(first, from);
    last = Math.max(last, to);
  }
  return first <= last ? [first, last] : undefined;
}

/** `12-15,20-20` for `[[12, 15], [20, 20]]`; `-` for none. */
export function formatRanges(ranges: readonly SeqRange[]): string {
  if (ranges.length === 0) return "-";
  return ranges.map(([first, last]) => `${first}-${last}`).join(",");
}

/** How many numbers `ranges` cover. */
export function countRanges(ranges: readonly SeqRange[]): number {
  let count = 0;
  for (const [first, last] of ranges) count += last - first + 1;
  return count;
}
