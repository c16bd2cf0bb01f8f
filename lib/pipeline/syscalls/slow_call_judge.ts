/**
 * Judging the slow calls of a trace against their syscall's statistics in the kernel's
 * cumulative maps: each call is compared with the *other* calls of its syscall, and an
 * {@linkcode AnomalyEvent} comes out for each one that stands out.
 *
 * @module
 */

import type { AnomalyEvent } from "./syscall_events.ts";
import { type AnomalyOptions, judgeCall, momentsWithout } from "./anomaly_detector.ts";
import { histogramMoments, latencyBucket, type LatencyHistogram } from "./latency_histogram.ts";
import type { SyscallSnapshot } from "./syscall_stats.ts";
import { errnoName, type SyscallArch, syscallName } from "./syscall_table.ts";
import type { SlowCall } from "./tracer_lines.ts";

/** What {@linkcode judgeSlowCalls} needs besides the calls and the maps. */
export interface JudgeOptions {
  arch: SyscallArch;
  /** z-score threshold, absolute bound. */
  anomaly?: AnomalyOptions;
  /** CLOCK_MONOTONIC ns to ms since the Unix epoch. */
  toEpochMs: (ns: number) => number;
}

/** The anomalies among `calls`, judged on `snapshot`, in the order of `calls`. */
export function judgeSlowCalls(
  calls: readonly SlowCall[],
  snapshot: SyscallSnapshot,
  options: JudgeOptions,
): AnomalyEvent[] {
  const anomalies: AnomalyEvent[] = [];
  const histograms = new Map<number, LatencyHistogram>();
  for (const call of calls) {
    let histogram = histograms.get(call.nr);
    if (!histogram) {
      histogram = snapshot.histogramOf(call.nr);
      histograms.set(call.nr, histogram);
    }
    // The maps normally include the call (they are printed after it); not when bpftrace
    // died before its final printout, and the call is newer than the last one.
    const included = (histogram.get(latencyBucket(call.latencyNs))?.count ?? 0) > 0;
    const moments = histogramMoments(histogram);
    const others = included ? momentsWithout(moments, call.latencyNs) : moments;
    const verdict = judgeCall(call.latencyNs, others, options.anomaly);
    if (verdict.reasons.length === 0) continue;
    const startTime = options.toEpochMs(call.startNs);
    anomalies.push({
      kind: "anomaly",
      time: startTime + call.latencyNs / 1e6,
      pid: call.pid,
      tid: call.tid,
      comm: call.comm,
      syscall: syscallName(call.nr, options.arch),
      nr: call.nr,
      startTime,
      latencyNs: call.latencyNs,
      zScore: verdict.zScore,
      meanNs: verdict.meanNs,
      stddevNs: verdict.stddevNs,
      reasons: verdict.reasons,
      ...(call.ret < 0 ? { errno: errnoName(-call.ret) } : {}),
    });
  }
  return anomalies;
}
