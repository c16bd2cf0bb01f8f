/**
 * Crash reports: when the service dies from a signal, find its core, read the build-id of
 * the program, run gdb on the core, and put it all in one {@linkcode CrashReport}, with a
 * one-line summary for stderr: the `crash` event the sinks encode.
 *
 * The backtrace comes from the core (`source: "core"`). When there is no core, the report
 * says why (`source: "none"`); a {@linkcode CrashFallback} (the bpftrace sidecar's stacks,
 * `source: "ebpf"`) can then supply the frames instead.
 *
 * @module
 */

import { basename } from "../../../core/posix_path.ts";
import type {
  CrashCore,
  CrashEvent,
  CrashFrame,
  CrashReport,
  CrashSource,
  CrashThread,
} from "../../../core/events/crash.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import { readElfInfo } from "../../../core/symbols/build_id.ts";
import { DEFAULT_PATH, findProgram } from "../../../core/find_executable.ts";
import { crashFrameName, describeCallSite } from "../../../pipeline/sinks/encode/backtrace_text.ts";
import {
  type CoreLookup,
  type CrashedProcess,
  findCore,
  type FindCoreOptions,
} from "./find_core.ts";
import { runGdb, type RunGdbOptions } from "./gdb_backtrace.ts";
import { applyGdbBacktrace } from "./apply_gdb_backtrace.ts";

// The report and event are plain data in core (lib/core/events/crash.ts), their encodings
// for the sinks in the pipeline (lib/pipeline/sinks/encode/crash.ts). Re-exported for the
// importers that knew them here.
export type { CrashCore, CrashEvent, CrashFrame, CrashReport, CrashSource, CrashThread };

/**
 * Signals whose default action is to dump core (signal(7)): a child killed by one of these
 * crashed. SIGKILL, SIGTERM, SIGINT and the like are stops, not crashes.
 */
export const CORE_SIGNALS: ReadonlySet<string> = new Set([
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGILL",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSYS",
  "SIGTRAP",
  "SIGXCPU",
  "SIGXFSZ",
]);

/** Whether a child killed by `signal` (a name like `"SIGSEGV"`) crashed and may have left a core. */
export function isCrashSignal(signal: string | undefined): boolean {
  return signal !== undefined && CORE_SIGNALS.has(signal);
}

/** What the supervisor knows about the crash. */
export interface CrashInfo extends CrashedProcess {
  /** The service name (`stream_name`). Default: the executable's base name. */
  service?: string;
}

/**
 * A second way to get a backtrace when the core gives none: called with the crash and
 * the reason; returns threads (and a note for `problems`) or `undefined`. The bpftrace
 * sidecar plugs in here with `source: "ebpf"`.
 */
export type CrashFallback = (
  info: CrashInfo,
  reason: string,
) => Promise<{ source: CrashSource; threads: CrashThread[]; note?: string } | undefined>;

/** Options for {@linkcode captureCrash}. */
export interface CaptureCrashOptions {
  /** How to look for the core (timeout 10 s by default). */
  core?: FindCoreOptions;
  /** How to run gdb (`gdb`, 30 s time limit, 256 KiB of raw text by default). */
  gdb?: RunGdbOptions;
  /** Keep a core that wrapp extracted (from systemd-coredump) instead of deleting it after gdb. Default `false`. */
  keepExtractedCore?: boolean;
  /** Another source of a backtrace when the core gives none. Default: none. */
  fallback?: CrashFallback;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/**
 * Make the report of a crash: build-id, core, gdb backtrace. Never throws; what fails is
 * said in `noCoreReason` and `problems`. Takes up to the core timeout plus the gdb time
 * limit in the worst case, and milliseconds when cores are off.
 */
export async function captureCrash(
  info: CrashInfo,
  options: CaptureCrashOptions = {},
): Promise<CrashReport> {
  const started = performance.now();
  const debug = options.debug ?? silentDebug;
  const image = info.image ?? await programImage(info.executable);
  const report = _emptyReport(info, image);
  try {
    const elf = await readElfInfo(image);
    report.machine = elf.machineName;
    if (elf.buildId !== undefined) report.buildId = elf.buildId;
    else report.problems.push(`"${image}" has no GNU build-id (link with -Wl,--build-id)`);
  } catch (error) {
    report.problems.push(`Cannot read the build-id of "${image}": ${describeCause(error)}`);
  }

  const lookup = await findCore({ ...info, image }, { debug, ...options.core });
  debug(`core of pid ${info.pid}: ${lookup.found ? lookup.description : lookup.reason}`);
  if (!lookup.found) report.noCoreReason = lookup.reason;
  else await _backtraceFromCore(report, lookup, options, debug);

  if (report.threads.length === 0 && options.fallback) {
    await _backtraceFromFallback(report, { ...info, image }, options.fallback);
  }
  report.captureMs = Math.round(performance.now() - started);
  return report;
}

/** The report before anything is looked up: names, numbers, no backtrace. */
function _emptyReport(info: CrashInfo, image: string): CrashReport {
  const signal = typeof info.signal === "number"
    ? Object.entries(SIGNAL_NUMBERS).find(([, n]) => n === info.signal)?.[0] ??
      `signal ${info.signal}`
    : info.signal;
  const signalNumber = typeof info.signal === "number"
    ? info.signal
    : SIGNAL_NUMBERS[info.signal] ?? 0;
  return {
    service: info.service ?? basename(info.executable),
    pid: info.pid,
    signal,
    signalNumber,
    shellExitCode: 128 + signalNumber,
    executable: info.executable,
    image,
    source: "none",
    threads: [],
    problems: [],
    crashTime: info.crashTime,
    captureMs: 0,
  };
}

/** Run gdb on the core found, put what it printed in the report, then delete an extracted core. */
async function _backtraceFromCore(
  report: CrashReport,
  lookup: Extract<CoreLookup, { found: true }>,
  options: CaptureCrashOptions,
  debug: DebugLog,
): Promise<void> {
  const problems = report.problems;
  const core: CrashCore = {
    path: lookup.path,
    size: lookup.size,
    via: lookup.via,
    description: lookup.description,
    incomplete: lookup.incomplete,
    kept: true,
  };
  report.core = core;
  if (lookup.incomplete) {
    problems.push(`The core "${lookup.path}" was still growing when wrapp stopped waiting`);
  }
  try {
    const gdb = await runGdb(report.image, lookup.path, options.gdb);
    debug(`gdb: ${gdb.threads.length} threads in ${gdb.durationMs} ms`);
    applyGdbBacktrace(report, gdb, options.gdb?.timeoutMs);
    if (gdb.registers !== undefined) report.registers = gdb.registers;
    if (gdb.instruction !== undefined) report.instruction = gdb.instruction;
    if (gdb.faultAddress !== undefined && _FAULT_SIGNALS.has(report.signal)) {
      report.faultAddress = gdb.faultAddress;
    }
    const mismatch = gdb.warnings.find((w) => /may not match|does not match/i.test(w));
    if (mismatch) problems.push(`gdb: ${mismatch}`);
    if (gdb.threads.length > 0) report.source = "core";
    else {
      // The first message that is not a consequence of having no core loaded.
      const why = gdb.warnings.find((w) => !_GDB_NOISE.test(w));
      problems.push(`gdb printed no backtrace${why ? `: ${why}` : ""}`);
    }
  } catch (error) {
    problems.push(describeCause(error));
  }
  if (lookup.temporary && !options.keepExtractedCore) {
    await Deno.remove(lookup.path).catch(() => {});
    await Deno.remove(lookup.path.slice(0, lookup.path.lastIndexOf("/"))).catch(() => {});
    core.kept = false;
  }
}

/** Ask the fallback for a backtrace, since the core gave none. */
async function _backtraceFromFallback(
  report: CrashReport,
  info: CrashInfo,
  fallback: CrashFallback,
): Promise<void> {
  try {
    const reason = report.noCoreReason ?? report.problems.at(-1) ?? "no backtrace";
    const found = await fallback(info, reason);
    if (found && found.threads.length > 0) {
      report.threads = found.threads;
      report.source = found.source;
    }
    if (found?.note) report.problems.push(found.note);
  } catch (error) {
    report.problems.push(`The fallback backtrace failed: ${describeCause(error)}`);
  }
}

const _FAULT_SIGNALS = new Set(["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE"]);
const _GDB_NOISE =
  /Unexpected size of section|^No stack\.$|no registers now|^No symbol table|^No frame selected|^No thread selected|history is empty/;

/**
 * The ELF that runs for `executable`: the file itself, or for a `#!` script its
 * interpreter (through `/usr/bin/env NAME` too), with symlinks resolved. When it cannot be
 * told, `executable` itself.
 */
export async function programImage(executable: string, env = Deno.env.toObject()): Promise<string> {
  let head = "";
  try {
    const file = await Deno.open(executable);
    try {
      const buffer = new Uint8Array(256);
      const n = await file.read(buffer) ?? 0;
      head = new TextDecoder().decode(buffer.subarray(0, n));
    } finally {
      file.close();
    }
  } catch {
    return executable;
  }
  const shebang = /^#!\s*(\S+)(?:[ \t]+([^\n]*))?/.exec(head);
  if (!shebang) return await Deno.realPath(executable).catch(() => executable);
  let interpreter = shebang[1];
  if (basename(interpreter) === "env") {
    const name = (shebang[2] ?? "").split(/\s+/).find((word) =>
      word !== "" && !word.startsWith("-")
    );
    if (name === undefined) return executable;
    const found = await findProgram(name, env.PATH || DEFAULT_PATH);
    if (found === undefined) return executable;
    interpreter = found;
  }
  return await Deno.realPath(interpreter).catch(() => interpreter);
}

/** Options for {@linkcode formatCrashSummary}. */
export interface CrashSummaryOptions {
  /** Where the full report went. Default `"report in the crash stream"`. */
  where?: string;
  /** Frames shown. Default 3. */
  frames?: number;
}

/**
 * One line for stderr:
 * `wrapp: svc (pid 4242) crashed with SIGSEGV at crash_here() ← level_one() ← main(); core /var/crash/core.svc.4242, report in the crash stream`.
 * Frames inside the C library (raise, abort, pthread_kill) are skipped and the last of
 * them named: `crashed with SIGABRT in abort() at fail_now() ← main()`.
 */
export function formatCrashSummary(report: CrashReport, options: CrashSummaryOptions = {}): string {
  const crashed = report.threads.find((t) => t.crashed) ?? report.threads[0];
  const place = crashed
    ? describeCallSite(crashed.frames, options.frames ?? 3, crashFrameName)
    : "";
  const core = report.core
    ? `core ${report.core.description}${report.core.kept ? "" : " (deleted after gdb)"}`
    : report.noCoreReason ?? "no core";
  const via = report.source === "ebpf" ? " (stack from eBPF)" : "";
  const line =
    `wrapp: ${report.service} (pid ${report.pid}) crashed with ${report.signal}${place}${via}; ${core}, ${
      options.where ?? "report in the crash stream"
    }`;
  return line.replace(/\s*\n\s*/g, " ");
}

/** The `crash` event for a report, with its summary. */
export function crashEvent(
  report: CrashReport,
  options: CrashSummaryOptions & { time?: number } = {},
): CrashEvent {
  return {
    kind: "crash",
    time: options.time ?? report.crashTime,
    summary: formatCrashSummary(report, options),
    report,
  };
}
