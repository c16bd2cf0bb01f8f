/**
 * A backtrace as plain data: threads and their frames, as gdb prints them (or as the eBPF
 * sidecar recorded them). Crash and hang reports carry them.
 *
 * @module
 */

/** One stack frame as gdb printed it. */
export interface StackFrame {
  /** Frame number, 0 = innermost. */
  index: number;
  /** Program counter, when gdb printed it (`0x0000558f192be155`). */
  address?: string;
  /** Function name; `??` when unknown; `<signal handler called>` for a signal frame. */
  function: string;
  /** The argument list as printed, without parentheses: `p=0x0`. */
  args?: string;
  /** Source file, when debug info has it. */
  file?: string;
  /** Source line, when debug info has it. */
  line?: number;
  /** Shared object the frame is in, when gdb printed `from …` (no debug info). */
  library?: string;
  /** Local variables from `bt full`, one `name = value` per entry. */
  locals?: string[];
}

/** One thread of the crashed (or hung) process. */
export interface StackThread {
  /** gdb's thread number (1 = the first thread gdb found). */
  number: number;
  /** Kernel thread id (LWP), when printed. */
  lwp?: number;
  /** Thread name, when gdb knows it. */
  name?: string;
  /** Whether this is the thread that received the fatal signal (gdb's current thread). */
  crashed: boolean;
  /** Innermost frame first. */
  frames: StackFrame[];
}
