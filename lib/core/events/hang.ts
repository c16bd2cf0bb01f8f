/**
 * The `hang` event: the watchdog fired and gdb took the live service's backtraces before
 * wrapp stopped it. Plain data, JSON-serialisable, spool-safe; the run feature makes it,
 * the sinks encode it (the crash stream with `kind` = `hang`, the trace's crash track).
 *
 * @module
 */

import type { EventBase } from "./event_base.ts";
import type { StackThread } from "./stack.ts";

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
  /** One line for stderr, as the run feature's `formatHangSummary` writes it. */
  readonly summary: string;
  /** The full report. */
  readonly report: HangReport;
}
