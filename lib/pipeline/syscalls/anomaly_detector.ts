/**
 * Deciding whether one slow syscall is an anomaly.
 *
 * A call is an anomaly when its latency is more than `thresholdSigma` standard deviations
 * above the mean of the *other* calls of the same syscall (its z-score), or above an
 * absolute `slowNs` bound. The mean and standard deviation come from the kernel's
 * histogram of that syscall (see `latency_histogram.ts`), minus the call itself, so one
 * long call cannot hide itself by raising the mean. With fewer than `minSamples` other
 * calls there is no z-score, and only the absolute bound applies.
 *
 * Only calls at or above the sidecar's floor are ever judged: the kernel sends wrapp no
 * other call individually (that is what keeps tracing cheap).
 *
 * @module
 */

/** Options for {@linkcode judgeCall}. */
export interface AnomalyOptions {
  /** z-score above which a call is an anomaly. Default 3.0. */
  thresholdSigma?: number;
  /** Every call at least this slow (ns) is an anomaly. Default: no absolute bound. */
  slowNs?: number;
  /** Other calls needed before a z-score is computed. Default 5. */
  minSamples?: number;
}

/** Count, sum and sum of squares (ns) of a syscall's latencies. */
export interface LatencyMoments {
  count: number;
  sum: number;
  sumSquares: number;
}

/** The verdict on one call. */
export interface Verdict {
  /** Why it is an anomaly; empty when it is not one. */
  reasons: ("zscore" | "slow")[];
  /** Its z-score against the other calls, or null with too few of them. */
  zScore: number | null;
  /** Mean and standard deviation of the other calls (ns), or null with too few. */
  meanNs: number | null;
  stddevNs: number | null;
}

/** Default z-score threshold. */
export const DEFAULT_THRESHOLD_SIGMA = 3.0;
/** Default number of other calls needed for a z-score. */
export const DEFAULT_MIN_SAMPLES = 5;

/** The moments of the other calls: `moments` less one call of `latencyNs`. */
export function momentsWithout(moments: LatencyMoments, latencyNs: number): LatencyMoments {
  return {
    count: Math.max(0, moments.count - 1),
    sum: Math.max(0, moments.sum - latencyNs),
    sumSquares: Math.max(0, moments.sumSquares - latencyNs * latencyNs),
  };
}

/**
 * Judge a call of `latencyNs` against the moments of the *other* calls of its syscall
 * (see {@linkcode momentsWithout}). The standard deviation is floored at 1 ns so a
 * perfectly regular syscall still gets a finite z-score.
 */
export function judgeCall(
  latencyNs: number,
  others: LatencyMoments | undefined,
  options: AnomalyOptions = {},
): Verdict {
  const threshold = options.thresholdSigma ?? DEFAULT_THRESHOLD_SIGMA;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const reasons: ("zscore" | "slow")[] = [];
  let zScore: number | null = null;
  let meanNs: number | null = null;
  let stddevNs: number | null = null;
  if (others && others.count >= minSamples) {
    {
      const count = others.count;
      meanNs = others.sum / count;
      const variance = Math.max(0, others.sumSquares / count - meanNs * meanNs);
      stddevNs = Math.sqrt(variance);
      zScore = (latencyNs - meanNs) / Math.max(stddevNs, 1);
      if (zScore > threshold) reasons.push("zscore");
    }
  }
  if (options.slowNs !== undefined && latencyNs >= options.slowNs) reasons.push("slow");
  return { reasons, zScore, meanNs, stddevNs };
}
