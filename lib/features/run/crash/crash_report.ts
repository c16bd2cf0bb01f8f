/**
 * Crash reports: when the service dies from a signal, find its core, read the build-id of
 * the program, run gdb on the core, and put it all in one {@linkcode CrashReport}, with a
 * one-line summary for stderr and encodings for the crash stream and the trace.
 *
 * The backtrace comes from the core (`source: "core"`). When there is no core, the report
 * says why (`source: "none"`); a {@linkcode CrashFallback} (the bpftrace sidecar's stacks,
 * `source: "ebpf"`) can then supply the frames instead.
 *
 * @module
 */

import { basename } from "node:path";
import type { EventBase } from "../../../core/event.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import { readElfInfo } from "../../../core/symbols/build_id.ts";
import { DEFAULT_PATH, findProgram } from "../../../core/find_executable.ts";
import {
  type CoreSource,
  type CrashedProcess,
  findCore,
  type FindCoreOptions,
} from "./find_core.ts";
import {
  boundText,
  runGdb,
  type RunGdbOptions,
  type StackFrame,
  type StackThread,
} from "./gdb_backtrace.ts";

/** A frame of a crash backtrace (from gdb, or later from eBPF stacks). */
export type CrashFrame = StackFrame;

/** A thread of a crash backtrace, innermost frame first. */
export type CrashThread = StackThread;

/**
 * Where the backtrace came from: `core` (gdb on the core dump), `none` (no backtrace; see
 * `noCoreReason` and `problems`), `ebpf` (stacks recorded by the bpftrace sidecar through
 * a {@linkcode CrashFallback}).
 */
export type CrashSource = "core" | "none" | "ebpf";

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

/** The core a report was made from. */
export interface CrashCore {
  /** Where it is (for an extracted systemd-coredump core: where it was, see `kept`). */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** How it was found. */
  via: CoreSource;
  /** For people: the path, or `systemd-coredump (coredumpctl dump 4242)`. */
  description: string;
  /** Its size was still changing when wrapp gave up waiting: gdb may have seen it truncated. */
  incomplete: boolean;
  /** Whether the file is still there after the report (extracted copies are deleted unless asked to keep them). */
  kept: boolean;
}

/** Everything wrapp learned about one crash. Plain data: JSON-serialisable, spool-safe. */
export interface CrashReport {
  /** The service name. */
  service: string;
  /** The pid that died. */
  pid: number;
  /** The fatal signal's name: `SIGSEGV`. */
  signal: string;
  /** Its number on Linux: 11. */
  signalNumber: number;
  /** The exit code a shell reports (and `wrapp run` exits with): 128 + signal. */
  shellExitCode: number;
  /** The program as configured. */
  executable: string;
  /** The ELF that ran (the interpreter for a script), symlinks resolved. */
  image: string;
  /** Its GNU build-id (hex), when it has one. */
  buildId?: string;
  /** Its architecture: `x86_64`, `aarch64`. */
  machine?: string;
  /** The core, when one was found. */
  core?: CrashCore;
  /** Why there is no core: `no core: core_pattern "…" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true`. */
  noCoreReason?: string;
  /** Where the backtrace came from. */
  source: CrashSource;
  /** Every thread, the crashed one first (empty without a backtrace). */
  threads: CrashThread[];
  /** `info registers` of the crashed thread. */
  registers?: string;
  /** The faulting instruction (`x/i $pc`). */
  instruction?: string;
  /** The address that faulted, for SIGSEGV/SIGBUS/SIGILL/SIGFPE. */
  faultAddress?: string;
  /** gdb's full output, at most `maxRawBytes` (256 KiB by default). */
  gdbText?: string;
  /** Whether `gdbText` was cut. */
  gdbTextTruncated?: boolean;
  /** Things that went wrong on the way (no build-id, gdb timed out, core may not match), as sentences. */
  problems: string[];
  /** When wrapp saw the crash, ms since the epoch. */
  crashTime: number;
  /** How long making the report took, ms. */
  captureMs: number;
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

/** The `crash` event: the report and its one-line summary. (To be moved into the `Event` union.) */
export interface CrashEvent extends EventBase {
  readonly kind: "crash";
  /** One line, as {@linkcode formatCrashSummary} writes it. */
  readonly summary: string;
  /** The full report. */
  readonly report: CrashReport;
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
  const signal = typeof info.signal === "number"
    ? Object.entries(SIGNAL_NUMBERS).find(([, n]) => n === info.signal)?.[0] ??
      `signal ${info.signal}`
    : info.signal;
  const signalNumber = typeof info.signal === "number"
    ? info.signal
    : SIGNAL_NUMBERS[info.signal] ?? 0;
  const problems: string[] = [];
  const image = info.image ?? await programImage(info.executable);
  const report: CrashReport = {
    service: info.service ?? basename(info.executable),
    pid: info.pid,
    signal,
    signalNumber,
    shellExitCode: 128 + signalNumber,
    executable: info.executable,
    image,
    source: "none",
    threads: [],
    problems,
    crashTime: info.crashTime,
    captureMs: 0,
  };

  try {
    const elf = await readElfInfo(image);
    report.machine = elf.machineName;
    if (elf.buildId !== undefined) report.buildId = elf.buildId;
    else problems.push(`"${image}" has no GNU build-id (link with -Wl,--build-id)`);
  } catch (error) {
    problems.push(`Cannot read the build-id of "${image}": ${describeCause(error)}`);
  }

  const lookup = await findCore({ ...info, image }, { debug, ...options.core });
  debug(`core of pid ${info.pid}: ${lookup.found ? lookup.description : lookup.reason}`);
  if (!lookup.found) {
    report.noCoreReason = lookup.reason;
  } else {
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
      const gdb = await runGdb(image, lookup.path, options.gdb);
      debug(`gdb: ${gdb.threads.length} threads in ${gdb.durationMs} ms`);
      report.threads = gdb.threads;
      if (gdb.registers !== undefined) report.registers = gdb.registers;
      if (gdb.instruction !== undefined) report.instruction = gdb.instruction;
      if (gdb.faultAddress !== undefined && _FAULT_SIGNALS.has(signal)) {
        report.faultAddress = gdb.faultAddress;
      }
      report.gdbText = gdb.raw;
      if (gdb.rawTruncated) report.gdbTextTruncated = true;
      if (gdb.timedOut) {
        problems.push(
          `gdb did not finish within ${
            options.gdb?.timeoutMs ?? 30_000
          } ms; the backtrace may be partial`,
        );
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

  if (report.threads.length === 0 && options.fallback) {
    try {
      const reason = report.noCoreReason ?? problems.at(-1) ?? "no backtrace";
      const fallback = await options.fallback({ ...info, image }, reason);
      if (fallback && fallback.threads.length > 0) {
        report.threads = fallback.threads;
        report.source = fallback.source;
      }
      if (fallback?.note) problems.push(fallback.note);
    } catch (error) {
      problems.push(`The fallback backtrace failed: ${describeCause(error)}`);
    }
  }
  report.captureMs = Math.round(performance.now() - started);
  return report;
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
  const place = crashed ? _place(crashed.frames, options.frames ?? 3) : "";
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

/** `in abort() at fail_now() ← main()`, from a crashed thread's frames. */
function _place(frames: readonly CrashFrame[], count: number): string {
  if (frames.length === 0) return "";
  const firstOwn = frames.findIndex((f) => !isSystemFrame(f));
  const start = firstOwn === -1 ? 0 : firstOwn;
  const shown = frames.slice(start, start + count).map(_frameName);
  const inside = start > 0 ? ` in ${_frameName(frames[start - 1])}` : "";
  return `${inside} at ${shown.join(" ← ")}`;
}

function _frameName(frame: CrashFrame): string {
  if (frame.function === "??") return frame.address ?? "??";
  if (frame.function.startsWith("<")) return frame.function;
  return `${frame.function.replace(/^__GI_/, "").replace(/^__libc_(?=[a-z])/, "")}()`;
}

const _SYSTEM_FUNCTIONS = new Set([
  "raise",
  "abort",
  "gsignal",
  "pthread_kill",
  "start_thread",
  "clone",
  "clone3",
  "_start",
  "<signal handler called>",
]);

/**
 * Whether a frame is inside the C library or the kernel's signal trampoline rather than
 * the program: glibc internals (`__pthread_kill_implementation`, `__GI_raise`), frames
 * from `/lib`, `/usr/lib`, and glibc's own source paths (`./nptl/…`, `../sysdeps/…`).
 */
export function isSystemFrame(frame: CrashFrame): boolean {
  if (_SYSTEM_FUNCTIONS.has(frame.function) || frame.function.startsWith("__")) return true;
  if (frame.library !== undefined && /^\/(usr\/)?lib(32|64)?\//.test(frame.library)) return true;
  return frame.file !== undefined &&
    /^\.{1,2}\/(sysdeps|nptl|stdlib|assert|signal|csu|libio|malloc|string|posix|misc)\//.test(
      frame.file,
    );
}

/** Options for {@linkcode formatCrashBacktrace}. */
export interface CrashBacktraceOptions {
  /** Largest text, in bytes. Default 65536. */
  maxBytes?: number;
  /** Frames shown per thread. Default 64. */
  maxFrames?: number;
}

/**
 * The report as text for people (the crash stream's `backtrace` field, the trace's
 * instant event): signal, program, build-id, core, fault address and instruction, then
 * every thread's frames, the crashed thread first. Locals are left to `gdbText`.
 */
export function formatCrashBacktrace(
  report: CrashReport,
  options: CrashBacktraceOptions = {},
): string {
  const maxFrames = options.maxFrames ?? 64;
  const lines = [
    `${report.service} (pid ${report.pid}) crashed with ${report.signal} (signal ${report.signalNumber})`,
    `program ${report.image}${
      report.image !== report.executable ? ` (running ${report.executable})` : ""
    }${report.buildId ? `, build-id ${report.buildId}` : ""}${
      report.machine ? `, ${report.machine}` : ""
    }`,
    report.core
      ? `core ${report.core.description} (${report.core.size} bytes)`
      : report.noCoreReason ?? "no core",
  ];
  if (report.faultAddress) lines.push(`fault address ${report.faultAddress}`);
  if (report.instruction) lines.push(`instruction ${report.instruction}`);
  if (report.source === "ebpf") {
    lines.push("stack recorded by eBPF (frame pointers; may be shallow)");
  }
  for (const problem of report.problems) lines.push(`note: ${problem}`);
  for (const thread of report.threads) {
    const name = thread.name !== undefined ? ` "${thread.name}"` : "";
    const lwp = thread.lwp !== undefined ? ` (LWP ${thread.lwp}${name})` : name;
    lines.push("", `Thread ${thread.number}${lwp}${thread.crashed ? ", crashed" : ""}:`);
    for (const frame of thread.frames.slice(0, maxFrames)) lines.push(`  ${formatFrame(frame)}`);
    if (thread.frames.length > maxFrames) {
      lines.push(`  … ${thread.frames.length - maxFrames} more frames`);
    }
  }
  return boundText(lines.join("\n"), options.maxBytes ?? 64 << 10).text;
}

/** `#1 0x0000558f192be176 level_one (p=0x0) at segv.c:3`. */
export function formatFrame(frame: CrashFrame): string {
  const address = frame.address ? ` ${frame.address}` : "";
  const args = frame.function.startsWith("<") ? "" : ` (${frame.args ?? ""})`;
  const where = frame.file !== undefined
    ? ` at ${frame.file}${frame.line !== undefined ? `:${frame.line}` : ""}`
    : frame.library !== undefined
    ? ` from ${frame.library}`
    : "";
  return `#${frame.index}${address} ${frame.function}${args}${where}`;
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

/**
 * Fields for the crash stream entry (`XADD logs:app:<name>:crash`) after the `message`
 * (= `event.summary`), `ts`, `run` and `pid` every entry gets: `signal`, `signal_number`,
 * `exit_code`, `exe`, `image`, `build_id`, `machine`, `core` (path or why there is none),
 * `source`, `backtrace` (text of every thread), `registers`, `instruction`,
 * `fault_address`, `problems`, `gdb` (raw, ≤ 256 KiB). Empty values are left out.
 */
export function crashStreamFields(event: CrashEvent): Record<string, string> {
  const r = event.report;
  const fields: Record<string, string | undefined> = {
    signal: r.signal,
    signal_number: String(r.signalNumber),
    exit_code: String(r.shellExitCode),
    exe: r.executable,
    image: r.image,
    build_id: r.buildId,
    machine: r.machine,
    core: r.core ? r.core.description : r.noCoreReason,
    source: r.source,
    backtrace: formatCrashBacktrace(r),
    registers: r.registers,
    instruction: r.instruction,
    fault_address: r.faultAddress,
    problems: r.problems.length > 0 ? r.problems.join("\n") : undefined,
    gdb: r.gdbText,
  };
  return nonEmptyFields(fields);
}

/** `fields` without the ones unset or empty: a stream entry carries only what is known. */
export function nonEmptyFields(
  fields: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""),
  );
}

/**
 * The TEF instant event for a crash, on the crash track (`tid`): `ph: "i"`, `s: "t"`,
 * `cat: "crash"`, name `SIGSEGV in crash_here()`, args with the summary, signal, build-id,
 * core and the backtrace text. `pid` and `ts` (µs) are the sink's.
 */
export function crashTraceEvent(
  event: CrashEvent,
  track: { pid: number; tid: number },
): Record<string, unknown> {
  const r = event.report;
  const crashed = r.threads.find((t) => t.crashed) ?? r.threads[0];
  const top = crashed?.frames.find((f) => !isSystemFrame(f)) ?? crashed?.frames[0];
  const args: Record<string, unknown> = {
    summary: event.summary,
    signal: r.signal,
    pid: r.pid,
    exit_code: r.shellExitCode,
    executable: r.executable,
    source: r.source,
    core: r.core ? r.core.description : r.noCoreReason,
    backtrace: formatCrashBacktrace(r),
  };
  if (r.buildId) args.build_id = r.buildId;
  if (r.faultAddress) args.fault_address = r.faultAddress;
  if (r.instruction) args.instruction = r.instruction;
  if (r.registers) args.registers = r.registers;
  return {
    ph: "i",
    s: "t",
    cat: "crash",
    name: top ? `${r.signal} in ${_frameName(top)}` : r.signal,
    pid: track.pid,
    tid: track.tid,
    ts: Math.round(event.time * 1000),
    args,
  };
}
