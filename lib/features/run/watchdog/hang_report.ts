/**
 * Hang reports: when the watchdog fires, gdb attaches to the live service and takes every
 * thread's backtrace before wrapp stops it, so the report names the functions the
 * service was stuck in. {@linkcode HangEvent} carries it to every sink: the crash stream
 * in Redis (entries with `kind` = `hang`) and an instant on the trace's crash track.
 *
 * @module
 */

import type { EventBase } from "../../../core/event.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { readElfInfo } from "../../../core/symbols/build_id.ts";
import { formatFrame, isSystemFrame, nonEmptyFields, programImage } from "../crash/crash_report.ts";
import {
  attachGdb,
  boundText,
  type RunGdbOptions,
  type StackFrame,
  type StackThread,
} from "../crash/gdb_backtrace.ts";

/**
 * Why the watchdog fired: `watchdog` (no `WATCHDOG=1` within `[watchdog] timeout`),
 * `silence` (no output line within `[watchdog] silence`), `trigger` (the service sent
 * `WATCHDOG=trigger`).
 */
export type HangReason = "watchdog" | "silence" | "trigger";

/** What the supervisor knows when the watchdog fires. */
export interface HangInfo {
  /** The service name (`stream_name`). */
  service: string;
  /** The service's main pid, which gdb attaches to. */
  pid: number;
  /** The program as configured. */
  executable: string;
  /** Why it fired. */
  reason: HangReason;
  /** The limit that ran out, ms (none for `trigger`). */
  limitMs?: number;
  /** How long the service had been quiet (no ping, no line), ms. */
  silentMs: number;
  /** The last `STATUS=` the service sent, if any. */
  statusText?: string;
  /** When the watchdog fired, ms since the epoch. */
  time: number;
}

/** Everything wrapp learned about one hang. Plain data: JSON-serialisable, spool-safe. */
export interface HangReport extends HangInfo {
  /** One sentence: `no WATCHDOG=1 within the 2 s timeout`. */
  detail: string;
  /** The ELF that ran (the interpreter for a script), symlinks resolved. */
  image: string;
  /** Its GNU build-id (hex), when it has one. */
  buildId?: string;
  /** Its architecture: `x86_64`, `aarch64`. */
  machine?: string;
  /** `gdb` when gdb printed the backtraces, `none` when it could not (see `problems`). */
  source: "gdb" | "none";
  /** Every thread, gdb's current one (the main thread) first. */
  threads: StackThread[];
  /** gdb's output, bounded. */
  gdbText?: string;
  /** Whether `gdbText` was cut. */
  gdbTextTruncated?: boolean;
  /** What went wrong on the way (gdb missing, not allowed to attach, timed out), as sentences. */
  problems: string[];
  /** How long making the report took, ms (the service stays stopped by gdb meanwhile). */
  captureMs: number;
}

/** The `hang` event: the report and its one-line summary. */
export interface HangEvent extends EventBase {
  readonly kind: "hang";
  /** One line, as {@linkcode formatHangSummary} writes it. */
  readonly summary: string;
  /** The full report. */
  readonly report: HangReport;
}

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
    report.threads = gdb.threads;
    report.gdbText = gdb.raw;
    if (gdb.rawTruncated) report.gdbTextTruncated = true;
    if (gdb.timedOut) {
      problems.push(
        `gdb did not finish within ${
          options.gdb?.timeoutMs ?? 30_000
        } ms; the backtrace may be partial`,
      );
    }
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
  const place = thread ? _place(thread.frames, options.frames ?? 3) : "";
  const status = report.statusText ? `; its last status was "${report.statusText}"` : "";
  const line =
    `wrapp: ${report.service} (pid ${report.pid}) hung: ${report.detail}${place}${status}; report in the crash stream`;
  return line.replace(/\s*\n\s*/g, " ");
}

/**
 * The report as text for people (the crash stream's `backtrace` field, the trace's
 * instant): what fired, the program, then every thread's frames.
 */
export function formatHangBacktrace(
  report: HangReport,
  options: { maxBytes?: number } = {},
): string {
  const lines = [
    `${report.service} (pid ${report.pid}) hung: ${report.detail}`,
    `program ${report.image}${
      report.image !== report.executable ? ` (running ${report.executable})` : ""
    }${report.buildId ? `, build-id ${report.buildId}` : ""}${
      report.machine ? `, ${report.machine}` : ""
    }`,
  ];
  if (report.statusText) lines.push(`last status: ${report.statusText}`);
  for (const problem of report.problems) lines.push(`note: ${problem}`);
  for (const thread of report.threads) {
    const name = thread.name !== undefined ? ` "${thread.name}"` : "";
    const lwp = thread.lwp !== undefined ? ` (LWP ${thread.lwp}${name})` : name;
    lines.push("", `Thread ${thread.number}${lwp}:`);
    for (const frame of thread.frames.slice(0, 64)) lines.push(`  ${formatFrame(frame)}`);
    if (thread.frames.length > 64) lines.push(`  … ${thread.frames.length - 64} more frames`);
  }
  return boundText(lines.join("\n"), options.maxBytes ?? 64 << 10).text;
}

/** The `hang` event for a report, with its summary. */
export function hangEvent(report: HangReport): HangEvent {
  return { kind: "hang", time: report.time, summary: formatHangSummary(report), report };
}

/**
 * Fields of the crash stream entry after the `message` (= `event.summary`), `ts`, `run`
 * and `pid` every entry gets: `kind` = `hang`, `reason`, `detail`, `limit_ms`,
 * `silent_ms`, `status_text`, `exe`, `image`, `build_id`, `machine`, `source`,
 * `backtrace`, `problems`, `gdb`. Empty values are left out.
 */
export function hangStreamFields(event: HangEvent): Record<string, string> {
  const r = event.report;
  const fields: Record<string, string | undefined> = {
    kind: "hang",
    reason: r.reason,
    detail: r.detail,
    limit_ms: r.limitMs === undefined ? undefined : String(r.limitMs),
    silent_ms: String(Math.round(r.silentMs)),
    status_text: r.statusText,
    exe: r.executable,
    image: r.image,
    build_id: r.buildId,
    machine: r.machine,
    source: r.source,
    backtrace: formatHangBacktrace(r),
    problems: r.problems.length > 0 ? r.problems.join("\n") : undefined,
    gdb: r.gdbText,
  };
  return nonEmptyFields(fields);
}

/**
 * The TEF instant for a hang, on the crash track (`tid`): `ph: "i"`, `s: "t"`,
 * `cat: "hang"`, name `hang in stuck_here()`, args with the summary and backtrace text.
 * `pid` and `ts` (µs) are the sink's.
 */
export function hangTraceEvent(
  event: HangEvent,
  track: { pid: number; tid: number },
): Record<string, unknown> {
  const r = event.report;
  const frames = r.threads[0]?.frames ?? [];
  const top = frames.find((f) => !isSystemFrame(f)) ?? frames[0];
  const args: Record<string, unknown> = {
    summary: event.summary,
    reason: r.reason,
    detail: r.detail,
    pid: r.pid,
    executable: r.executable,
    source: r.source,
    backtrace: formatHangBacktrace(r),
  };
  if (r.statusText) args.status_text = r.statusText;
  if (r.buildId) args.build_id = r.buildId;
  return {
    ph: "i",
    s: "t",
    cat: "hang",
    name: top ? `hang in ${_frameName(top)}` : "hang",
    pid: track.pid,
    tid: track.tid,
    ts: Math.round(event.time * 1000),
    args,
  };
}

/** `; stuck in pthread_mutex_lock() at stuck_here() ← main()`, from the main thread's frames. */
function _place(frames: readonly StackFrame[], count: number): string {
  if (frames.length === 0) return "";
  const firstOwn = frames.findIndex((f) => !isSystemFrame(f));
  const start = firstOwn === -1 ? 0 : firstOwn;
  const shown = frames.slice(start, start + count).map(_frameName);
  const inside = start > 0 ? ` in ${_frameName(frames[start - 1])}` : "";
  return `; stuck${inside} at ${shown.join(" ← ")}`;
}

/** `pthread_mutex_lock()` for glibc's `___pthread_mutex_lock`, `pause()` for `__libc_pause`, `??` frames by address. */
function _frameName(frame: StackFrame): string {
  if (frame.function === "??") return frame.address ?? "??";
  if (frame.function.startsWith("<")) return frame.function;
  const name = frame.function.replace(/^__GI_/, "").replace(/^_+(?=[a-z])/, "");
  return `${name.replace(/^libc_(?=[a-z])/, "")}()`;
}

function _duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
