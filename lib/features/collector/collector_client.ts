/**
 * One connection to the collector: what it has sent so far, the trace it has open, and
 * how it is hung up when the collector stops.
 *
 * @module
 */

import { LineFramer } from "./protocol.ts";
import type { OpenTrace } from "./open_traces.ts";
import { quoteTraceId } from "./trace_id.ts";

/** A connected client. */
export interface CollectorClient {
  readonly number: number;
  readonly conn: Deno.UnixConn;
  readonly framer: LineFramer;
  /** `framer.heldBytes` as last added to the collector's total. */
  held: number;
  trace?: OpenTrace;
  /** Why the last OPEN was refused, for the message of the events that follow it. */
  refusedOpen?: number;
  line: number;
  events: number;
  rejected: number;
  /** Stop reading (after DIE, or when the daemon stops). */
  done: boolean;
  /** While stopping: hangs up once the client has sent nothing for a moment. */
  drainTimer?: ReturnType<typeof setTimeout>;
  /** Drain timer expiries since the client's last read. */
  idleStrikes: number;
}

/**
 * When stopping, a client is hung up once it has sent nothing for two periods of this
 * long (ms) — two, so the event loop has polled its socket in between (the collector
 * also hangs every client up after a longer cap).
 */
const _DRAIN_IDLE_MS = 50;

/** Client `number`, just connected on `conn`, reading lines of at most `maxLineBytes`. */
export function newCollectorClient(
  number: number,
  conn: Deno.UnixConn,
  maxLineBytes: number,
): CollectorClient {
  return {
    number,
    conn,
    framer: new LineFramer(maxLineBytes),
    held: 0,
    line: 0,
    events: 0,
    rejected: 0,
    done: false,
    idleStrikes: 0,
  };
}

/** `client 3`, or `client 3 (trace "demo")` once it has a trace open. */
export function describeClient(client: CollectorClient): string {
  return client.trace
    ? `client ${client.number} (trace ${quoteTraceId(client.trace.id)})`
    : `client ${client.number}`;
}

/** Why an event of `client` has no trace to go to. */
export function noTraceMessage(client: CollectorClient): string {
  return client.refusedOpen === undefined
    ? 'event before OPEN: send "OPEN <trace-id>" first'
    : `event without a trace: the OPEN on line ${client.refusedOpen} was refused`;
}

/** While stopping: hang `client` up once it has been silent for two drain periods. */
export function armDrainTimer(client: CollectorClient): void {
  clearTimeout(client.drainTimer);
  client.drainTimer = setTimeout(() => {
    if (++client.idleStrikes >= 2) hangUp(client);
    else armDrainTimer(client);
  }, _DRAIN_IDLE_MS);
}

/** Stop reading `client` and close its connection. */
export function hangUp(client: CollectorClient): void {
  clearTimeout(client.drainTimer);
  client.done = true;
  closeConn(client.conn);
}

/** Close `conn`, when it is not closed already. */
export function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
