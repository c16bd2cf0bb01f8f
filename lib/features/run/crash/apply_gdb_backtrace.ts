/**
 * What a crash report and a hang report both take from gdb: the threads, gdb's bounded
 * text, and a problem when gdb ran out of time.
 *
 * @module
 */

import type { StackThread } from "../../../core/events/stack.ts";
import { DEFAULT_GDB_TIMEOUT_MS, type GdbBacktrace } from "./gdb_backtrace.ts";

/** The fields of a report that {@linkcode applyGdbBacktrace} fills. */
export interface GdbReportFields {
  threads: StackThread[];
  gdbText?: string;
  gdbTextTruncated?: boolean;
  problems: string[];
}

/**
 * Copy gdb's threads and text into `report`, and when gdb was killed at its time limit
 * (`timeoutMs`, the one it ran with) add `gdb did not finish within 30000 ms; the
 * backtrace may be partial` to its problems.
 */
export function applyGdbBacktrace(
  report: GdbReportFields,
  gdb: GdbBacktrace,
  timeoutMs: number = DEFAULT_GDB_TIMEOUT_MS,
): void {
  report.threads = gdb.threads;
  report.gdbText = gdb.raw;
  if (gdb.rawTruncated) report.gdbTextTruncated = true;
  if (gdb.timedOut) {
    report.problems.push(`gdb did not finish within ${timeoutMs} ms; the backtrace may be partial`);
  }
}
