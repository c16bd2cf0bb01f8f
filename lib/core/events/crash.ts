/**
 * The `crash` event: the service died from a core-dumping signal, and the report wrapp
 * made of it (core, build-id, gdb backtrace). Plain data, JSON-serialisable, spool-safe;
 * the run feature makes it, the sinks encode it.
 *
 * @module
 */

import type { EventBase } from "./event_base.ts";
import type { StackFrame, StackThread } from "./stack.ts";

/** A frame of a crash backtrace (from gdb, or from eBPF stacks). */
export type CrashFrame = StackFrame;

/** A thread of a crash backtrace, innermost frame first. */
export type CrashThread = StackThread;

/**
 * Where the backtrace came from: `core` (gdb on the core dump), `none` (no backtrace; see
 * `noCoreReason` and `problems`), `ebpf` (stacks recorded by the bpftrace sidecar).
 */
export type CrashSource = "core" | "none" | "ebpf";

/** How a core was found: a file by `core_pattern`, or extracted from systemd-coredump or apport. */
export type CoreSource = "file" | "systemd-coredump" | "apport";

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

/** The `crash` event: the report and its one-line summary. */
export interface CrashEvent extends EventBase {
  readonly kind: "crash";
  /** One line for stderr, as the run feature's `formatCrashSummary` writes it. */
  readonly summary: string;
  /** The full report. */
  readonly report: CrashReport;
}
