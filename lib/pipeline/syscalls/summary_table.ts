/**
 * The `wrapp trace --summary` table: `strace -c`'s layout (sorted by time, with % time),
 * with latency percentiles and the maximum added, and failed calls broken down by errno.
 *
 * ```
 * % time     seconds  usecs/call   p50 usecs   p99 usecs   max usecs     calls    errors syscall
 * ------ ----------- ----------- ----------- ----------- ----------- --------- --------- ----------------
 *  99.85    0.321696    15318.87     1079.61   300104.12   300104.12        21           clock_nanosleep
 *   0.39    0.001255        1.26        0.65        7.12        7.12        12         5 openat (ENOENT 5)
 * ------ ----------- ----------- ----------- ----------- ----------- --------- --------- ----------------
 * 100.00    0.322186        0.31                                          1055         5 total
 * ```
 *
 * Time is wall-clock time inside the calls (what `strace -c -w` shows).
 *
 * @module
 */

import type { AnomalyEvent, SyscallRow } from "./syscall_events.ts";
import { rowTotals } from "./syscall_stats.ts";
import { formatDurationNs } from "../../core/parse_duration.ts";

/** Options for {@linkcode formatSummaryTable}. */
export interface SummaryTableOptions {
  /** Thread names by tid, for per-thread section titles. */
  threads?: Readonly<Record<number, string>>;
}

const _HEADER = [
  "% time",
  "seconds",
  "usecs/call",
  "p50 usecs",
  "p99 usecs",
  "max usecs",
  "calls",
  "errors",
  "syscall",
];
const _WIDTHS = [6, 11, 11, 11, 11, 11, 9, 9];

/**
 * The table for `rows`. Rows with a `tid` (a per-thread trace) get one section per thread,
 * each with its own `% time` and total, busiest thread first.
 */
export function formatSummaryTable(
  rows: readonly SyscallRow[],
  options: SummaryTableOptions = {},
): string {
  if (rows.some((row) => row.tid !== undefined)) {
    const byThread = new Map<number, SyscallRow[]>();
    for (const row of rows) {
      const list = byThread.get(row.tid ?? 0) ?? [];
      list.push(row);
      byThread.set(row.tid ?? 0, list);
    }
    const sections = [...byThread].sort((a, b) =>
      rowTotals(b[1]).totalNs - rowTotals(a[1]).totalNs || a[0] - b[0]
    );
    return sections.map(([tid, list]) => {
      const name = options.threads?.[tid];
      return `thread ${tid}${name ? ` (${name})` : ""}\n${_table(list)}`;
    }).join("\n\n");
  }
  return _table(rows);
}

/**
 * Lines listing anomalies, oldest first, times relative to `startTime` (ms since the
 * epoch): `+1.234s  tid 17753 (prog)  clock_nanosleep  300.1 ms  z=3951.5 (mean 1.080 ms)`.
 * At most `limit` (default 20) lines, then how many more there were.
 */
export function formatAnomalies(
  anomalies: readonly AnomalyEvent[],
  options: { startTime: number; total?: number; limit?: number },
): string {
  const total = options.total ?? anomalies.length;
  if (total === 0) return "no anomalies";
  const limit = options.limit ?? 20;
  const sorted = [...anomalies].sort((a, b) => a.startTime - b.startTime);
  const lines = [`anomalies (${total}):`];
  for (const anomaly of sorted.slice(0, limit)) {
    lines.push(`  ${describeAnomaly(anomaly, options.startTime)}`);
  }
  if (total > Math.min(limit, sorted.length)) {
    lines.push(`  … ${total - Math.min(limit, sorted.length)} more (see --json)`);
  }
  return lines.join("\n");
}

/** One anomaly on one line, its time relative to `startTime` (ms since the epoch). */
export function describeAnomaly(anomaly: AnomalyEvent, startTime: number): string {
  const offset = ((anomaly.startTime - startTime) / 1000).toFixed(3);
  const who = `pid ${anomaly.pid} tid ${anomaly.tid}${anomaly.comm ? ` (${anomaly.comm})` : ""}`;
  const why: string[] = [];
  if (anomaly.zScore !== null && anomaly.meanNs !== null) {
    why.push(`z=${anomaly.zScore.toFixed(1)} above mean ${formatDurationNs(anomaly.meanNs)}`);
  }
  if (anomaly.reasons.includes("slow")) why.push("above --slow");
  const failed = anomaly.errno ? ` failed ${anomaly.errno}` : "";
  return `+${offset}s  ${who}  ${anomaly.syscall}${failed}  ${
    formatDurationNs(anomaly.latencyNs)
  }  ${why.join(", ")}`;
}

function _table(rows: readonly SyscallRow[]): string {
  const totals = rowTotals(rows);
  const rule = _WIDTHS.map((w) => "-".repeat(w)).concat("-".repeat(16)).join(" ");
  const lines = [_line(_HEADER), rule];
  for (const row of rows) {
    const share = totals.totalNs > 0 ? (100 * row.totalNs) / totals.totalNs : 0;
    const errnos = Object.entries(row.errnos).map(([name, count]) => `${name} ${count}`);
    lines.push(_line([
      share.toFixed(2),
      (row.totalNs / 1e9).toFixed(6),
      _usecs(row.meanNs),
      _usecs(row.p50Ns),
      _usecs(row.p99Ns),
      _usecs(row.maxNs),
      String(row.calls),
      row.errors > 0 ? String(row.errors) : "",
      errnos.length > 0 ? `${row.name} (${errnos.join(", ")})` : row.name,
    ]));
  }
  lines.push(rule);
  lines.push(_line([
    rows.length > 0 ? "100.00" : "0.00",
    (totals.totalNs / 1e9).toFixed(6),
    _usecs(totals.calls > 0 ? totals.totalNs / totals.calls : 0),
    "",
    "",
    "",
    String(totals.calls),
    totals.errors > 0 ? String(totals.errors) : "",
    "total",
  ]));
  return lines.join("\n");
}

function _usecs(ns: number): string {
  return (ns / 1000).toFixed(2);
}

function _line(cells: readonly string[]): string {
  return cells.map((cell, i) => i < _WIDTHS.length ? cell.padStart(_WIDTHS[i]) : cell).join(" ");
}
