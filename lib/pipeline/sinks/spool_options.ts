/**
 * The options of a `DiskSpool` (disk_spool.ts) and what it reports about the spool a previous
 * process left.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";

/** What a full spool does. */
export type SpoolPolicy = "drop_oldest" | "block";

/** Options for {@linkcode DiskSpool.open}. */
export interface DiskSpoolOptions {
  /** Bytes the segment files may take together. Default 256 MiB. */
  maxBytes?: number;
  /**
   * A segment is closed and a new one begun once it holds this many bytes. Default
   * `maxBytes / 16`, between 4 KiB and 8 MiB: small enough that dropping the oldest
   * segment gives back a small share of the spool.
   */
  segmentBytes?: number;
  /** Appended data is fsynced at most this long after it was written, in ms. Default 500. */
  fsyncIntervalMs?: number;
  /**
   * When `maxBytes` is reached or the disk is full: `drop_oldest` (default) deletes the
   * oldest segments and counts their records in {@linkcode DiskSpool.droppedRecords};
   * `block` keeps appending past `maxBytes` (a soft limit: the caller watches
   * {@linkcode DiskSpool.full} and holds its producer back) and, on a full disk, leaves
   * what does not fit to the caller ({@linkcode DiskSpool.appendUntilFull}).
   */
  policy?: SpoolPolicy;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** What {@linkcode DiskSpool.open} found from a previous process. */
export interface SpoolRecovery {
  /** Segment files found. */
  segments: number;
  /** Complete, not yet acknowledged records in them. */
  records: number;
  /** Their size in bytes. */
  bytes: number;
  /** Partially written last lines cut off. */
  partialLines: number;
}

/** Default for {@linkcode DiskSpoolOptions.maxBytes}: 256 MiB, Vector's minimum disk buffer. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
