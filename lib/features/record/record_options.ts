/**
 * What `wrapp record` asks of a recording and what it gets back.
 *
 * @module
 */

import type { WrappError } from "../../core/errors.ts";
import type { DebugLog } from "../../core/debug.ts";
import type { AnomalyOptions } from "../../pipeline/syscalls/anomaly_detector.ts";
import type { BpftraceBinary } from "../../pipeline/syscalls/syscall_session.ts";
import type { RecordingMetadata } from "./metadata.ts";
import type { ProgressDisplayOptions } from "./progress_bar.ts";
import type { PlanContext, RecordPlan } from "./workload.ts";

/** Options for `recordApplication()`. */
export interface RecordOptions {
  /** The recording's name: a workload (`redis`) or a custom command's program name. */
  app: string;
  /** Makes the commands, given a private folder, a port and the duration. */
  plan: (context: PlanContext) => Promise<RecordPlan>;
  /** Programs found for the workload's needs, by name (passed to `plan`). */
  programs?: Readonly<Record<string, string>>;
  /** How long the load runs, ms; undefined: until the application exits (a custom command). */
  durationMs?: number;
  /** Folder the recording folder goes in (`traces`). */
  outDir: string;
  /** The bpftrace to run (from the preflight check). */
  bpftrace: BpftraceBinary;
  /** Calls at least this slow are examined one by one and drawn, ns. Default 1 ms. */
  floorNs?: number;
  /** Anomaly thresholds. */
  anomaly?: AnomalyOptions;
  /** Also send the summary and anomalies to Redis. */
  redis?: { url: string; passwordFile?: string; name: string };
  /** Grace between the application's stop signal and SIGKILL, ms. Default 10000. */
  stopGraceMs?: number;
  /** One line for the user on stderr (`wrapp record: …`). */
  notice: (text: string) => void;
  /** Debug logger. */
  debug?: DebugLog;
  /** Progress display options (tests). */
  progress?: ProgressDisplayOptions;
  /** Environment lookup (SUDO_UID, WRAPP_REDIS_PASSWORD). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

/** What a recording left. */
export interface RecordResult {
  /** The recording's folder and name. */
  dir: string;
  name: string;
  /** What `metadata.json` holds. */
  metadata: RecordingMetadata;
  /** The load generator's figures. */
  results: string[];
  /** The exit code for wrapp: 0, or a custom command's own exit code. */
  exitCode: number;
  /** What went wrong, when something did (the files were written regardless). */
  error?: WrappError;
}
