/**
 * The counters of a running collector, and the one line that sums them up when it stops.
 *
 * @module
 */

import { REJECT_REASONS, type RejectReason } from "./protocol.ts";

/** Counters of a {@linkcode CollectorServer}. */
export interface CollectorStats {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  connected: number;
  /** Events accepted (queued for their trace file). */
  events: number;
  /** Events written to their trace file. */
  written: number;
  /** Events lost to failed writes (each failure is logged). */
  dropped: number;
  /** Lines rejected, by reason. */
  rejected: Record<RejectReason, number>;
  /** Trace files opened for writing (a trace reopened after all its clients left counts again). */
  tracesOpened: number;
  /** `trace.json` files written for EMIT_TEF and EMIT_TEF_AT_EXIT. */
  emitted: number;
  /** EMIT_TEF / EMIT_TEF_AT_EXIT that failed (logged). */
  emitErrors: number;
  /** `onEvent` calls that threw. */
  callbackErrors: number;
  /** Unfinished lines cut because all connections together held `maxPendingBytes`. */
  cut: number;
  /** Bytes of unfinished lines held now, across connections. */
  pendingBytes: number;
}

/** Every counter at zero, for a collector that has just started. */
export function emptyCollectorStats(): CollectorStats {
  return {
    connections: 0,
    connected: 0,
    events: 0,
    written: 0,
    dropped: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<
      RejectReason,
      number
    >,
    tracesOpened: 0,
    emitted: 0,
    emitErrors: 0,
    callbackErrors: 0,
    cut: 0,
    pendingBytes: 0,
  };
}

/**
 * One line summing up a collector's counters, for its stop message:
 * `12 connections, 10000 events written, 2 lines rejected (json 1, trace_id 1)`.
 */
export function formatCollectorStats(stats: CollectorStats): string {
  const rejected = Object.entries(stats.rejected).filter(([, n]) => n > 0);
  const total = rejected.reduce((sum, [, n]) => sum + n, 0);
  const parts = [
    plural(stats.connections, "connection"),
    `${plural(stats.written, "event")} written`,
    `${plural(total, "line")} rejected${
      total > 0 ? ` (${rejected.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : ""
    }`,
  ];
  if (stats.dropped > 0) parts.push(`${plural(stats.dropped, "event")} lost to write errors`);
  if (stats.cut > 0) {
    parts.push(`${plural(stats.cut, "unfinished line")} cut to bound memory`);
  }
  if (stats.emitted > 0) parts.push(`${plural(stats.emitted, "trace.json file")} written`);
  if (stats.emitErrors > 0) parts.push(`${plural(stats.emitErrors, "EMIT_TEF")} failed`);
  return parts.join(", ");
}

/** `1 event`, `2 events`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
