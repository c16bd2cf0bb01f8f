/**
 * The bpftrace programs of `bpf/`, embedded in the binary through the module graph (text
 * imports, stable since Deno 2.8), so the compiled `wrapp` needs no file beside it. Every
 * program is embedded this way, next to the code that runs it: `bpf/syscalls.bt` here,
 * `bpf/fatal_signal.bt` in `lib/features/run/crash/fatal_signal_program.ts`,
 * `bpf/memprof.bt` in `lib/features/memprof/memprof_program.ts`. `deno task compile:check`
 * fails when a line of one of them is missing from the bundle.
 *
 * @module
 */

import syscallsProgram from "../../../bpf/syscalls.bt" with { type: "text" };

/** An embedded bpftrace program. */
export interface BpfProgram {
  /** File name in `bpf/`, used in bpftrace's messages. */
  readonly name: string;
  /** Program text. */
  readonly text: string;
  /** Tracepoints it attaches to (checked before starting), as `category:name`. */
  readonly tracepoints: readonly string[];
}

/**
 * `bpf/syscalls.bt`: per-syscall counts, errors and latency histograms of a process tree,
 * aggregated in the kernel, plus one line per call above a latency floor.
 * Parameters: `$1` pid, `$2` floor in ns (0: none), `$3` per thread (0/1), `$4`/`$5` the
 * numbers of exit/exit_group on this architecture.
 */
export const SYSCALLS_PROGRAM: BpfProgram = Object.freeze({
  name: "syscalls.bt",
  text: syscallsProgram,
  tracepoints: Object.freeze([
    "raw_syscalls:sys_enter",
    "raw_syscalls:sys_exit",
    "sched:sched_process_fork",
    "sched:sched_process_exit",
    "task:task_rename",
  ]),
});
