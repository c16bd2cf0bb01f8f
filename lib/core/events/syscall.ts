/**
 * The events of syscall tracing (`wrapp trace`, `[trace]` of a service): `syscall`
 * (statistics per interval or in total) and `anomaly` (one call far slower than usual).
 * Plain data; their TEF encoding is in `lib/pipeline/syscalls/syscall_events.ts`.
 *
 * @module
 */

import type { EventBase } from "./event_base.ts";

/** Statistics of one syscall (of one thread, in a per-thread summary) over a period. */
export interface SyscallRow {
  /** Syscall name on the traced architecture (`"openat"`), `syscall_<n>` when unknown. */
  readonly name: string;
  /** Syscall number on the traced architecture. */
  readonly nr: number;
  /** Thread id, in per-thread summaries only. */
  readonly tid?: number;
  /** Completed calls (`exit`/`exit_group` are counted on entry, with no latency). */
  readonly calls: number;
  /** Calls that returned an error. */
  readonly errors: number;
  /** Failed calls by errno name: `{ "ENOENT": 3 }`. */
  readonly errnos: Readonly<Record<string, number>>;
  /** Sum of latencies, ns (exact). */
  readonly totalNs: number;
  /** Mean latency, ns (exact). */
  readonly meanNs: number;
  /** Median latency, ns, from the kernel's quarter-octave histogram. */
  readonly p50Ns: number;
  /** 99th percentile latency, ns, from the histogram. */
  readonly p99Ns: number;
  /** Longest call, ns: exact when it was above the floor or alone in its bucket, else its bucket's upper edge. */
  readonly maxNs: number;
}

/** Syscall statistics of a traced process tree: one interval (live) or the whole trace. */
export interface SyscallEvent extends EventBase {
  readonly kind: "syscall";
  /** `interval`: the calls since the previous interval event; `total`: the whole trace so far. */
  readonly scope: "interval" | "total";
  /** The traced process (the root of the followed tree). */
  readonly pid: number;
  /** Start of the period, ms since the Unix epoch. */
  readonly startTime: number;
  /** Calls, errors and latency sum over every row. */
  readonly calls: number;
  readonly errors: number;
  readonly totalNs: number;
  /** One row per syscall (per thread and syscall with --per-thread), most total time first. */
  readonly rows: readonly SyscallRow[];
  /** Events bpftrace reported lost so far (slow-call lines; the counts are never lost). */
  readonly lostEvents: number;
}

/** One syscall far slower than usual. */
export interface AnomalyEvent extends EventBase {
  readonly kind: "anomaly";
  /** Process (thread group) of the thread. */
  readonly pid: number;
  /** Thread that made the call. */
  readonly tid: number;
  /** The thread's name (`comm`). */
  readonly comm: string;
  /** Syscall name and number on the traced architecture. */
  readonly syscall: string;
  readonly nr: number;
  /** When the call started, ms since the Unix epoch (`time` is when it returned). */
  readonly startTime: number;
  /** How long it took, ns. */
  readonly latencyNs: number;
  /** Standard deviations above the mean of the syscall's other calls; null with fewer than 5 of them. */
  readonly zScore: number | null;
  /** Mean and standard deviation of those other calls, ns; null with fewer than 5. */
  readonly meanNs: number | null;
  readonly stddevNs: number | null;
  /** Why it is an anomaly: above the z-score threshold, above the absolute `--slow` bound, or both. */
  readonly reasons: readonly ("zscore" | "slow")[];
  /** The errno name when the call failed. */
  readonly errno?: string;
}
