/**
 * How the sinks encode a `crash` event: the fields of its crash stream entry in Redis,
 * the instant on the trace's crash track, and the backtrace text both carry.
 *
 * The Redis sink loads this module with the first crash or hang it encodes, not at start.
 *
 * @module
 */

import type { CrashEvent, CrashReport } from "../../../core/events/crash.ts";
import { boundText } from "../../../core/bound_text.ts";
import { crashFrameName, programLine, threadLines, topOwnFrame } from "./backtrace_text.ts";
import { nonEmptyFields } from "./non_empty_fields.ts";

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
  const lines = [
    `${report.service} (pid ${report.pid}) crashed with ${report.signal} (signal ${report.signalNumber})`,
    programLine(report),
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
  lines.push(
    ...threadLines(report.threads, { maxFrames: options.maxFrames ?? 64, markCrashed: true }),
  );
  return boundText(lines.join("\n"), options.maxBytes ?? 64 << 10).text;
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
  const top = topOwnFrame(crashed?.frames ?? []);
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
    name: top ? `${r.signal} in ${crashFrameName(top)}` : r.signal,
    pid: track.pid,
    tid: track.tid,
    ts: Math.round(event.time * 1000),
    args,
  };
}
