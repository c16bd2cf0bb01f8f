/**
 * Syscall statistics as read from `bpf/syscalls.bt`'s maps, and the rows wrapp reports.
 *
 * The kernel keeps `@lat[tid, nr, bucket] = stats(ns)` and `@err[tid, nr, errno] = count()`
 * (tid 0 unless per-thread) and wrapp receives them whole, cumulative, once a second and
 * at the end. A {@linkcode SyscallSnapshot} is one such printout; the difference of two
 * is an interval.
 *
 * @module
 */

import { asStats, type BpftraceMapData, mapKeyNumbers } from "../bpf/bpftrace_json.ts";
import type { SyscallRow } from "./syscall_events.ts";
import {
  bucketRange,
  type LatencyHistogram,
  mergeHistogram,
  summarizeHistogram,
} from "./latency_histogram.ts";
import { errnoName, type SyscallArch, syscallName } from "./syscall_table.ts";

/** Statistics of one syscall of one thread (tid 0: all threads). */
export interface SyscallEntry {
  readonly tid: number;
  readonly nr: number;
  /** Latency bucket → count and total. */
  readonly histogram: LatencyHistogram;
  /** errno → failed calls. */
  readonly errnos: Map<number, number>;
}

/** Options for {@linkcode syscallRows}. */
export interface SyscallRowsOptions {
  /** Architecture of the traced process, for names. */
  arch: SyscallArch;
  /** Only these syscall numbers (the `--filter`). Default: all. */
  filter?: ReadonlySet<number>;
  /** Longest latency seen in slow-call lines, by `"tid,nr"` and by `"0,nr"`: makes maxima exact. */
  observedMax?: ReadonlyMap<string, number>;
}

/** One printout of the kernel maps: every (tid, syscall) with its histogram and errors. */
export class SyscallSnapshot {
  /** Entries by `"tid,nr"`. */
  readonly entries: Map<string, SyscallEntry> = new Map();

  /** Build a snapshot from the `@lat` (stats) and `@err` (count) map printouts. */
  static fromMaps(
    lat: BpftraceMapData | undefined,
    err: BpftraceMapData | undefined,
  ): SyscallSnapshot {
    const snapshot = new SyscallSnapshot();
    for (const [key, value] of Object.entries(lat ?? {})) {
      const [tid, nr, bucket] = mapKeyNumbers(key);
      const stats = asStats(value);
      if (stats === undefined || bucket === undefined || stats.count <= 0) continue;
      snapshot.#entry(tid, nr).histogram.set(bucket, { count: stats.count, total: stats.total });
    }
    for (const [key, value] of Object.entries(err ?? {})) {
      const [tid, nr, errno] = mapKeyNumbers(key);
      const count = Number(value);
      if (errno === undefined || !(count > 0)) continue;
      snapshot.#entry(tid, nr).errnos.set(errno, count);
    }
    return snapshot;
  }

  /** What happened between `older` and this snapshot (both cumulative). */
  minus(older: SyscallSnapshot): SyscallSnapshot {
    const delta = new SyscallSnapshot();
    for (const [key, entry] of this.entries) {
      const before = older.entries.get(key);
      const out = delta.#entry(entry.tid, entry.nr);
      for (const [bucket, totals] of entry.histogram) {
        const previous = before?.histogram.get(bucket);
        const count = totals.count - (previous?.count ?? 0);
        if (count > 0) {
          out.histogram.set(bucket, { count, total: totals.total - (previous?.total ?? 0) });
        }
      }
      for (const [errno, count] of entry.errnos) {
        const d = count - (before?.errnos.get(errno) ?? 0);
        if (d > 0) out.errnos.set(errno, d);
      }
      if (out.histogram.size === 0 && out.errnos.size === 0) delta.entries.delete(key);
    }
    return delta;
  }

  /** Add `count` calls of `totalNs` in all to a bucket (synthetic data: `wrapp trace --demo`). */
  add(tid: number, nr: number, bucket: number, count: number, totalNs: number): void {
    const histogram = this.#entry(tid, nr).histogram;
    const totals = histogram.get(bucket);
    if (totals) {
      totals.count += count;
      totals.total += totalNs;
    } else {
      histogram.set(bucket, { count, total: totalNs });
    }
  }

  /** Add `count` failures with `errno` (synthetic data). */
  addErrors(tid: number, nr: number, errno: number, count: number): void {
    const errnos = this.#entry(tid, nr).errnos;
    errnos.set(errno, (errnos.get(errno) ?? 0) + count);
  }

  /** The histogram of syscall `nr` over every thread. */
  histogramOf(nr: number): LatencyHistogram {
    const merged: LatencyHistogram = new Map();
    for (const entry of this.entries.values()) {
      if (entry.nr === nr) mergeHistogram(merged, entry.histogram);
    }
    return merged;
  }

  /** Thread ids present (0 alone when not per thread). */
  tids(): number[] {
    return [...new Set([...this.entries.values()].map((e) => e.tid))].sort((a, b) => a - b);
  }

  #entry(tid: number, nr: number): SyscallEntry {
    const key = `${tid},${nr}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { tid, nr, histogram: new Map(), errnos: new Map() };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

/**
 * One row per (thread, syscall) of the snapshot, most total time first (then most calls,
 * then name). Rows of tid 0 carry no `tid`.
 */
export function syscallRows(snapshot: SyscallSnapshot, options: SyscallRowsOptions): SyscallRow[] {
  const rows: SyscallRow[] = [];
  for (const entry of snapshot.entries.values()) {
    if (options.filter && !options.filter.has(entry.nr)) continue;
    const summary = summarizeHistogram(entry.histogram);
    let errors = 0;
    const errnos: Record<string, number> = {};
    for (const [errno, count] of [...entry.errnos].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
      errors += count;
      errnos[errnoName(errno)] = count;
    }
    const calls = Math.max(summary.count, errors);
    if (calls === 0) continue;
    let maxNs = summary.maxNs;
    const observed = options.observedMax?.get(`${entry.tid},${entry.nr}`);
    if (observed !== undefined && summary.count > 0) {
      // Every call at or above the floor was seen; one in the top bucket is the maximum.
      const top = Math.max(...entry.histogram.keys());
      if (observed >= bucketRange(top).low) maxNs = observed;
    }
    rows.push({
      name: syscallName(entry.nr, options.arch),
      nr: entry.nr,
      ...(entry.tid !== 0 ? { tid: entry.tid } : {}),
      calls,
      errors,
      errnos,
      totalNs: summary.totalNs,
      meanNs: summary.meanNs,
      p50Ns: summary.p50Ns,
      p99Ns: summary.p99Ns,
      maxNs,
    });
  }
  return rows.sort((a, b) =>
    b.totalNs - a.totalNs || b.calls - a.calls || a.name.localeCompare(b.name) ||
    (a.tid ?? 0) - (b.tid ?? 0)
  );
}

/** Calls, errors and total latency over rows. */
export function rowTotals(
  rows: readonly SyscallRow[],
): { calls: number; errors: number; totalNs: number } {
  let calls = 0;
  let errors = 0;
  let totalNs = 0;
  for (const row of rows) {
    calls += row.calls;
    errors += row.errors;
    totalNs += row.totalNs;
  }
  return { calls, errors, totalNs };
}
