/**
 * Hang reports: when the watchdog fires, gdb attaches to the live service and takes every
 * thread's backtrace before wrapp stops it, so the report names the functions the
 * service was stuck in. The `hang` event carries it to every sink: the crash stream in
 * Redis (entries with `kind` = `hang`) and an instant on the trace's crash track.
 *
 * @module
 */

import type { HangEvent, HangInfo, HangReason, HangReport } from "../../../core/events/hang.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { readElfInfo } from "../../../core/symbols/build_id.ts";
import { describeCallSite, hangFrameName } from "../../../pipeline/sinks/encode/backtrace_text.ts";
import { programImage } from "../crash/crash_report.ts";
import { attachGdb, type RunGdbOptions } from "../crash/gdb_backtrace.ts";
import { applyGdbBacktrace } from "../crash/apply_gdb_backtrace.ts";

// The report and event are plain data in core (lib/core/events/hang.ts), their encodings
// for the sinks in the pipeline (lib/pipeline/sinks/encode/hang.ts). Re-exported for the
// importers that knew them here.
export type { HangEvent, HangInfo, HangReason, HangReport };

/** Options for {@linkcode captureHang}. */
export interface CaptureHangOptions {
  /** How to run gdb (`gdb`, 30 s time limit by default). */
  gdb?: RunGdbOptions;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** The sentence for `detail`: `no WATCHDOG=1 within the 2 s timeout`. */
export function describeHang(info: HangInfo): string {
  const limit = _duration(info.limitMs ?? info.silentMs);
  switch (info.reason) {
    case "watchdog":
      return `no WATCHDOG=1 within the ${limit} timeout`;
    case "silence":
      return `no output line within the ${limit} silence limit`;
    case "trigger":
      return "the service sent WATCHDOG=trigger";
  }
}

/**
 * Attach gdb to the hung service, take every thread's backtrace, and read the build-id of
 * its program. Never throws: what fails is said in `problems`.
 */
export async function captureHang(
  info: HangInfo,
  options: CaptureHangOptions = {},
): Promise<HangReport> {
  const started = performance.now();
  const debug = options.debug ?? silentDebug;
  const problems: string[] = [];
  const image = await programImage(info.executable);
  const report: HangReport = {
    ...info,
    detail: describeHang(info),
    image,
    source: "none",
    threads: [],
    problems,
    captureMs: 0,
  };
  try {
    const elf = await readElfInfo(image);
    report.machine = elf.machineName;
    if (elf.buildId !== undefined) report.buildId = elf.buildId;
  } catch (error) {
    problems.push(`Cannot read the build-id of "${image}": ${describeCause(error)}`);
  }
  try {
    const gdb = await attachGdb(info.pid, options.gdb);
    debug(`gdb -p ${info.pid}: ${gdb.threads.length} threads in ${gdb.durationMs} ms`);
    applyGdbBacktrace(report, gdb, options.gdb?.timeoutMs);
    if (gdb.threads.length > 0) report.source = "gdb";
    else {
      const why = gdb.warnings.find((w) => /ptrace|attach|No such process|denied/i.test(w)) ??
        gdb.warnings[0];
      problems.push(`gdb could not take a backtrace of pid ${info.pid}${why ? `: ${why}` : ""}`);
    }
  } catch (error) {
    problems.push(describeCause(error));
  }
  report.captureMs = Math.round(performance.now() - started);
  return report;
}

/**
 * One line for stderr:
 * `wrapp: svc (pid 4242) hung: no WATCHDOG=1 within the 2 s timeout; stuck in pthread_mutex_lock() at stuck_here() ← main(); report in the crash stream`.
 */
export function formatHangSummary(report: HangReport, options: { frames?: number } = {}): string {
  const thread = report.threads[0];
  const site = thread ? describeCallSite(thread.frames, options.frames ?? 3, hangFrameName) : "";
  const place = site === "" ? "" : `; stuck${site}`;
  const status = report.statusText ? `; its last status was "${report.statusText}"` : "";
  const line =
    `wrapp: ${report.service} (pid ${report.pid}) hung: ${report.detail}${place}${status}; report in the crash stream`;
  return line.replace(/\s*\n\s*/g, " ");
}

/** The `hang` event for a report, with its summary. */
export function hangEvent(report: HangReport): HangEvent {
  return { kind: "hang", time: report.time, summary: formatHangSummary(report), report };
}

function _duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
