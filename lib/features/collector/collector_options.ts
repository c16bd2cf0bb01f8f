/**
 * How a collector is started ({@linkcode CollectorOptions}), what it hands to other sinks
 * ({@linkcode CollectedEvent}), and why it stopped.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";

/** One event a client sent, as handed to {@linkcode CollectorOptions.onEvent}. */
export interface CollectedEvent {
  /** The trace id the client opened. */
  readonly traceId: string;
  /** The parsed TEF event. */
  readonly event: Readonly<Record<string, unknown>>;
  /** The line as written to `<trace-id>.jsonl`. */
  readonly text: string;
  /** When the daemon read it, ms since the Unix epoch. */
  readonly time: number;
}

/** Options for {@linkcode CollectorServer.listen}. */
export interface CollectorOptions {
  /** Unix socket to listen on (created owner-only; a stale one is replaced, a live one refused). */
  socketPath: string;
  /** Folder of the `<trace-id>.jsonl` files; created (0700) when missing. */
  dir: string;
  /** Longest line accepted, in bytes; longer lines are dropped and counted. Default 1 MiB. */
  maxLineBytes?: number;
  /**
   * Most bytes of unfinished lines held across all connections; past it the largest is
   * cut. Default 8 MiB, or twice `maxLineBytes` when that is more.
   */
  maxPendingBytes?: number;
  /** Longest time an event waits before it is written, in ms. Default 5. */
  flushDelayMs?: number;
  /** Rejected lines logged per connection before the rest are only counted. Default 10. */
  maxLoggedRejects?: number;
  /**
   * Called with every accepted event, after it is queued for its file: the hook for more
   * sinks (Redis). It must return quickly and not throw (a throw is counted and logged).
   */
  onEvent?: (event: CollectedEvent) => void;
  /** Messages for the operator (rejected lines, traces written, stop). Default: none. */
  log?: (message: string) => void;
  /** Debug lines (every connection, OPEN, …). Default: none. */
  debug?: DebugLog;
}

/** Why the collector stopped: `DIE`, `DIE_WHEN_IDLE`, a signal name, or what the caller passed. */
export type StopReason = string;
