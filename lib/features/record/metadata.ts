/**
 * `metadata.json` of a recording: what ran, on what, when, for how long, what the trace
 * holds and how it ended — enough to compare two recordings or find one again.
 *
 * @module
 */

import type { ExitStatus } from "../../core/signals.ts";

/** How a recording ended. */
export type StoppedBy =
  /** The duration passed. */
  | "duration"
  /** The load generator finished by itself. */
  | "workload end"
  /** The recorded command exited by itself. */
  | "exit"
  /** A signal to wrapp (Ctrl-C is SIGINT). */
  | "SIGINT"
  | "SIGTERM"
  | "SIGHUP"
  /** Something failed: see `problem`. */
  | "error";

/** An exit status as JSON: exactly one of `code` and `signal` is set. */
export interface ExitStatusJson {
  code: number | null;
  signal: string | null;
}

/** The content of `metadata.json`. */
export interface RecordingMetadata {
  /** Workload name (`redis`) or the custom command's program name. */
  app: string;
  /** The recorded application's command line. */
  command: string[];
  /** The load generator's command line; null without one (`--custom`). */
  workload: string[] | null;
  /** The application's version (`7.0.15`); null when unknown (a custom command). */
  app_version: string | null;
  /** wrapp's version. */
  wrapp_version: string;
  /** bpftrace's version. */
  bpftrace_version: string | null;
  /** The kernel release (`uname -r`). */
  kernel: string;
  /** `x86_64` or `aarch64`. */
  arch: string;
  /** Host name. */
  host: string;
  /** When the recording started and ended, ISO 8601 UTC. */
  start: string;
  end: string;
  /** Seconds from start to end. */
  duration_s: number;
  /** Events in trace.json. */
  events: number;
  /** Events bpftrace lost (slow-call lines; the counts are exact regardless). */
  lost_events: number;
  /** Syscalls counted, errors among them, and how many were slow (at or above the floor). */
  syscalls: number;
  syscall_errors: number;
  slow_syscalls: number;
  /** Anomalies found. */
  anomalies: number;
  /** Processes and threads seen in the traced tree. */
  processes: number;
  threads: number;
  /** How the application ended; null when it never started. */
  exit_status: ExitStatusJson | null;
  /** How the load generator ended; null without one. */
  workload_exit_status: ExitStatusJson | null;
  /** What ended the recording. */
  stopped_by: StoppedBy;
  /** What went wrong, when something did. */
  problem: string | null;
}

/** An exit status for JSON. */
export function exitStatusJson(status: ExitStatus | undefined): ExitStatusJson | null {
  if (status === undefined) return null;
  return { code: status.code ?? null, signal: status.signal ?? null };
}

/** The JSON text of `metadata.json`, fields in the documented order. */
export function formatMetadata(metadata: RecordingMetadata): string {
  return JSON.stringify(metadata, null, 2) + "\n";
}
