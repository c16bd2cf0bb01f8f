/**
 * The log-linear latency buckets `bpf/syscalls.bt` aggregates into, and what can be read
 * back from them.
 *
 * A latency `L` ≥ 4 ns with `b = floor(log2(L))` lands in bucket `4*b + ((L >> (b-2)) & 3)`:
 * four buckets per power of two, each a quarter of its octave wide. `L` < 4 lands in
 * `4*floor(log2(L)) + L` (0 → 0). For every bucket the kernel keeps the count and the
 * total, so totals and means are exact; percentiles are the mean of the bucket that
 * holds the wanted rank (exact when its calls are alike, else within the bucket's
 * width: 25 % of its lower edge at most); a maximum is exact when one call is alone in
 * the top bucket, else that bucket's upper edge.
 *
 * @module
 */

/** Count and total latency of the calls in one bucket. */
export interface BucketTotals {
  /** Calls. */
  count: number;
  /** Sum of their latencies, ns. */
  total: number;
}

/** Bucket → totals, as read from the kernel map. */
export type LatencyHistogram = Map<number, BucketTotals>;

/** Bucket of a latency in ns, exactly as `bpf/syscalls.bt` computes it. */
export function latencyBucket(ns: number): number {
  if (ns < 0) throw new RangeError(`Invalid latency ${ns}: must be >= 0`);
  const lat = Math.floor(ns);
  if (lat < 2) return lat;
  const b = Math.floor(Math.log2(lat));
  // Math.log2 can be off by one just below powers of two: correct it.
  const octave = 2 ** (b + 1) <= lat ? b + 1 : 2 ** b > lat ? b - 1 : b;
  if (octave < 2) return octave * 4 + lat;
  const sub = Math.floor(lat / 2 ** (octave - 2)) % 4;
  return octave * 4 + sub;
}

/** Smallest and largest latency (ns, inclusive) of a bucket. */
export function bucketRange(bucket: number): { low: number; high: number } {
  const octave = Math.floor(bucket / 4);
  const sub = bucket % 4;
  if (octave < 2) return { low: sub, high: sub };
  const width = 2 ** (octave - 2);
  const low = 2 ** octave + sub * width;
  return { low, high: low + width - 1 };
}

/** Summary numbers of a histogram. */
export interface HistogramSummary {
  count: number;
  totalNs: number;
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  /** Whether `maxNs` is a measured latency rather than a bucket's upper edge. */
  maxExact: boolean;
}

/** Merge `from` into `into` (summing counts and totals). */
export function mergeHistogram(into: LatencyHistogram, from: LatencyHistogram): void {
  for (const [bucket, totals] of from) {
    const existing = into.get(bucket);
    if (existing) {
      existing.count += totals.count;
      existing.total += totals.total;
    } else {
      into.set(bucket, { ...totals });
    }
  }
}

/**
 * The latency at quantile `q` (0 < q ≤ 1): the mean of the bucket holding the call of
 * rank `ceil(q × count)`. 0 for an empty histogram.
 */
export function histogramQuantile(histogram: LatencyHistogram, q: number): number {
  const buckets = _sorted(histogram);
  const count = buckets.reduce((sum, [, t]) => sum + t.count, 0);
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (const [, totals] of buckets) {
    seen += totals.count;
    if (seen >= rank) return totals.total / totals.count;
  }
  const [, last] = buckets[buckets.length - 1];
  return last.total / last.count;
}

/** Count, total, mean, p50, p99 and maximum of a histogram. */
export function summarizeHistogram(histogram: LatencyHistogram): HistogramSummary {
  let count = 0;
  let total = 0;
  let top: [number, BucketTotals] | undefined;
  for (const entry of histogram) {
    if (entry[1].count <= 0) continue;
    count += entry[1].count;
    total += entry[1].total;
    if (!top || entry[0] > top[0]) top = entry;
  }
  if (!top) {
    return { count: 0, totalNs: 0, meanNs: 0, p50Ns: 0, p99Ns: 0, maxNs: 0, maxExact: true };
  }
  const alone = top[1].count === 1;
  const range = bucketRange(top[0]);
  return {
    count,
    totalNs: total,
    meanNs: total / count,
    p50Ns: histogramQuantile(histogram, 0.5),
    p99Ns: histogramQuantile(histogram, 0.99),
    maxNs: alone ? top[1].total : range.high,
    maxExact: alone || range.low === range.high,
  };
}

/**
 * Count, sum and an estimated sum of squares of the latencies (ns): each bucket
 * contributes its calls at their mean, plus the variance of a uniform spread over its
 * width when it holds more than one call. For z-scores.
 */
export function histogramMoments(
  histogram: LatencyHistogram,
): { count: number; sum: number; sumSquares: number } {
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (const [bucket, totals] of histogram) {
    if (totals.count <= 0) continue;
    const mean = totals.total / totals.count;
    const { low, high } = bucketRange(bucket);
    const width = high - low + 1;
    const spread = totals.count > 1 ? (width * width) / 12 : 0;
    count += totals.count;
    sum += totals.total;
    sumSquares += totals.count * (mean * mean + spread);
  }
  return { count, sum, sumSquares };
}

function _sorted(histogram: LatencyHistogram): [number, BucketTotals][] {
  return [...histogram].filter(([, t]) => t.count > 0).sort((a, b) => a[0] - b[0]);
}
