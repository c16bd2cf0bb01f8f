/**
 * What a whole syscall trace found: the summary `SyscallTracer.stop()` returns and
 * `wrapp trace --summary`, `--json` and `wrapp record` report.
 *
 * @module
 */

import type { AnomalyEvent, SyscallRow } from "./syscall_events.ts";
import type { SyscallArch } from "./syscall_table.ts";

/** What a whole trace found. */
export interface TraceSummary {
  /** The traced process. */
  pid: number;
  arch: SyscallArch;
  /** When tracing started and stopped, ms since the Unix epoch. */
  startTime: number;
  endTime: number;
  perThread: boolean;
  /** The floor, ns: only calls this slow could become anomalies. */
  floorNs: number;
  /** Totals over the reported rows. */
  calls: number;
  errors: number;
  totalNs: number;
  /** Rows, most total time first. */
  rows: SyscallRow[];
  /**
   * Thread names by tid: the latest name each thread had (renames by exec or
   * `prctl(PR_SET_NAME)` are followed), from slow calls and renames, else /proc.
   */
  threads: Record<number, string>;
  /** Anomalies, at most `MAX_SUMMARY_ANOMALIES` (1000). */
  anomalies: AnomalyEvent[];
  /** All anomalies, including those not kept. */
  anomalyCount: number;
  /** Events bpftrace lost (slow-call lines; counts are never lost). */
  lostEvents: number;
  /** Whether the final maps arrived (false when bpftrace was killed: the last second's are used). */
  complete: boolean;
}
