/**
 * The `wrapp trace --json` document: the summary for scripts, with snake_case keys,
 * integer nanoseconds and ISO times.
 *
 * ```json
 * {
 *   "pid": 4242, "command": ["./app"], "exit": { "code": 0 }, "arch": "x86_64",
 *   "start": "2025-01-02T03:04:05.678Z", "duration_s": 1.5, "per_thread": false,
 *   "floor_ns": 1000000, "threshold_sigma": 3, "slow_ns": null,
 *   "calls": 1055, "errors": 5, "total_ns": 322185820,
 *   "syscalls": [{ "name": "openat", "nr": 257, "calls": 12, "errors": 5,
 *                  "errnos": { "ENOENT": 5 }, "total_ns": 15066, "mean_ns": 1256,
 *                  "p50_ns": 646, "p99_ns": 7115, "max_ns": 7115, "percent_time": 0.0047 }],
 *   "anomalies": [{ "time": "…", "pid": 4242, "tid": 4242, "comm": "app",
 *                   "syscall": "clock_nanosleep", "nr": 230, "latency_ns": 300104116,
 *                   "z_score": 3951.46, "mean_ns": 1079605, "stddev_ns": 75674,
 *                   "reasons": ["zscore"] }],
 *   "anomaly_count": 1, "lost_events": 0, "complete": true
 * }
 * ```
 *
 * With `--per-thread`, each syscall entry also has `tid` and `comm`.
 *
 * @module
 */

import type { TraceSummary } from "./trace_summary.ts";
import type { ExitStatus } from "../../core/signals.ts";

/** Context the summary does not hold. */
export interface SummaryJsonContext {
  /** The launched command, when wrapp started it. */
  command?: readonly string[];
  /** How the launched command ended. */
  exit?: ExitStatus;
  /** The `--threshold` used. */
  thresholdSigma: number;
  /** The `--slow` bound used, ns. */
  slowNs?: number;
}

/** The JSON document (as an object; `JSON.stringify` it). */
export function summaryJson(
  summary: TraceSummary,
  context: SummaryJsonContext,
): Record<string, unknown> {
  return {
    pid: summary.pid,
    ...(context.command ? { command: [...context.command] } : {}),
    ...(context.exit ? { exit: { ...context.exit } } : {}),
    arch: summary.arch,
    start: new Date(summary.startTime).toISOString(),
    duration_s: Math.round(summary.endTime - summary.startTime) / 1000,
    per_thread: summary.perThread,
    floor_ns: summary.floorNs,
    threshold_sigma: context.thresholdSigma,
    slow_ns: context.slowNs ?? null,
    calls: summary.calls,
    errors: summary.errors,
    total_ns: Math.round(summary.totalNs),
    syscalls: summary.rows.map((row) => ({
      name: row.name,
      nr: row.nr,
      ...(row.tid !== undefined ? { tid: row.tid, comm: summary.threads[row.tid] ?? null } : {}),
      calls: row.calls,
      errors: row.errors,
      errnos: { ...row.errnos },
      total_ns: Math.round(row.totalNs),
      mean_ns: Math.round(row.meanNs),
      p50_ns: Math.round(row.p50Ns),
      p99_ns: Math.round(row.p99Ns),
      max_ns: Math.round(row.maxNs),
      percent_time: summary.totalNs > 0
        ? Math.round((1e6 * row.totalNs) / summary.totalNs) / 1e4
        : 0,
    })),
    anomalies: summary.anomalies.map((a) => ({
      time: new Date(a.startTime).toISOString(),
      pid: a.pid,
      tid: a.tid,
      comm: a.comm,
      syscall: a.syscall,
      nr: a.nr,
      latency_ns: a.latencyNs,
      z_score: a.zScore === null ? null : Math.round(a.zScore * 100) / 100,
      mean_ns: a.meanNs === null ? null : Math.round(a.meanNs),
      stddev_ns: a.stddevNs === null ? null : Math.round(a.stddevNs),
      reasons: [...a.reasons],
      ...(a.errno ? { errno: a.errno } : {}),
    })),
    anomaly_count: summary.anomalyCount,
    lost_events: summary.lostEvents,
    complete: summary.complete,
  };
}
