/**
 * "Did you mean …?" suggestions for mistyped keys, sections, commands and flags.
 *
 * @module
 */

/**
 * The candidate closest to `word`, or `undefined` when none is close enough to be a
 * plausible typo.
 *
 * Closeness is the optimal-string-alignment (Damerau–Levenshtein) distance, compared
 * case-insensitively, so a swapped pair of letters (`"exectuable"`) counts as one edit.
 * A candidate is suggested when its distance is at most 1 for words of up to 3 characters,
 * 2 for words of up to 6, and 3 beyond that. On a tie the earlier candidate wins.
 *
 * ```ts
 * didYouMean("exectuable", ["executable", "args"]); // "executable"
 * didYouMean("zzz", ["executable", "args"]); // undefined
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const needle = word.toLowerCase();
  const limit = needle.length <= 3 ? 1 : needle.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = _editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function _editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // Three rolling rows: two rows back (for swaps), previous, current.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, before[j - 2] + 1);
      }
      current[j] = value;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length];
}
