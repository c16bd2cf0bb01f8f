/**
 * `bpf/fatal_signal.bt` as an embedded program (a text import, like `lib/pipeline/bpf/programs.ts`),
 * with the tracepoints the preflight check looks for.
 *
 * @module
 */

import fatalSignalProgram from "../../../../bpf/fatal_signal.bt" with { type: "text" };
import type { BpfProgram } from "../../../pipeline/bpf/programs.ts";

/**
 * `bpf/fatal_signal.bt`: the raw user stack of a process tree's thread when a fatal
 * signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) is generated for it,
 * plus a line at every execve and whenever its dynamic loader maps libraries (a uprobe,
 * so not among `tracepoints`). Parameters: `$1` the pid, `$2` the supervisor, `$3` the
 * loader (its path is written in place of `$3`: bpftrace parameters are integers). Run
 * with `BPFTRACE_NO_USER_SYMBOLS=1`.
 */
export const FATAL_SIGNAL_PROGRAM: BpfProgram = Object.freeze({
  name: "fatal_signal.bt",
  text: fatalSignalProgram,
  tracepoints: Object.freeze([
    "signal:signal_generate",
    "sched:sched_process_fork",
    "sched:sched_process_exec",
    "sched:sched_process_exit",
  ]),
});

/** The signal numbers the program watches (the same on x86_64 and aarch64). */
export const FATAL_SIGNAL_NUMBERS: ReadonlySet<number> = new Set([4, 5, 6, 7, 8, 11, 31]);

/**
 * The program text bpftrace runs: `loaderPath` (the dynamic loader to hook) written in
 * place of `$3`, since wrapp passes bpftrace integer parameters only; without that probe
 * (`hooked` false) when there is no loader, or its path would not parse in a probe.
 */
export function fatalSignalProgramText(
  loaderPath: string | undefined,
): { text: string; hooked: boolean } {
  const text = FATAL_SIGNAL_PROGRAM.text;
  if (loaderPath !== undefined && /^\/[\w./+-]+$/.test(loaderPath)) {
    return { text: text.replace("\nuprobe:$3:", `\nuprobe:${loaderPath}:`), hooked: true };
  }
  return { text: text.replace(/^uprobe:\$3:[^]*?^}\n/m, ""), hooked: false };
}
