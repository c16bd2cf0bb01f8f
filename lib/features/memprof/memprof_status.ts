/**
 * What `wrapp memprof`'s page and API report about a profile in progress.
 *
 * @module
 */

import type { ProcessMemory } from "../../core/smaps_rollup.ts";

/** The object `GET /v1/status` answers (documented in the README). */
export interface MemprofStatus {
  /** The profiled process. */
  pid: number;
  /** Its command line. */
  command: string;
  /** `running` while profiling; `exited` once the process ended; `stopped` after Ctrl-C or `--duration`. */
  state: "starting" | "running" | "exited" | "stopped";
  /** How the process ended: `exit code 0`, `signal SIGKILL`. */
  exit?: string;
  /** When profiling began (ISO 8601). */
  startedAt: string;
  /** When the current numbers were printed by bpftrace (ISO 8601). */
  updatedAt: string;
  /** ms since profiling began. */
  elapsedMs: number;
  /** How often the numbers are updated, ms. */
  periodMs: number;
  /** The kernel's page size, kB. */
  pageSizeKb: number;
  /** Page allocations tracked at once (`--max-pages`). */
  maxPages: number;
  /** Whether kernel pages are counted too (`--all-pages`). */
  allPages: boolean;
  /** What is attributed to call stacks now: resident kB, page-cache kB, number of stacks. */
  attributed: { residentKb: number; cacheKb: number; stacks: number };
  /** The kernel's figures for the process now (or the last read while it lived). */
  process: ProcessMemory | null;
  /** The kernel's figures when profiling began: memory that cannot be attributed. */
  atAttach: ProcessMemory | null;
  /** RSS minus attributed resident memory, kB (never negative). */
  unattributedKb: number | null;
  /** Pages not recorded (table full) and events bpftrace lost. */
  lost: { pages: number; events: number };
  /** kB held by stacks of two frames or fewer (a sign of code without frame pointers). */
  shallowKb: number;
  /** Whether the process began exiting (the counts stopped there). */
  frozen: boolean;
}
