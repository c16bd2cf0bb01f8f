/**
 * {@linkcode Outage}: whether Redis is away for the sink, since when, why, how long the
 * writer backs off, and the status events that say so when it goes and when it is back.
 *
 * @module
 */

import { now, type StatusEvent } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import { describeRedisError } from "../redis_connection.ts";
import { ReplicaAckError } from "./replica_ack_error.ts";

/** What an {@linkcode Outage} asks of its sink. */
export interface OutageHooks {
  /** Queue a status event of the sink's own, in line with the events. */
  status(phase: StatusEvent["phase"], message: string, fields: StatusEvent["fields"]): void;
  /** Say how many events were dropped since the last report (`force`: now). */
  reportDrops(count: number, force: boolean): void;
  /** Events dropped so far. */
  dropped(): number;
  /** Redis went away: what waits in memory goes to the spool. */
  spillMemory(): void;
  /** Whether the sink is closing. */
  isClosing(): boolean;
  /** Something changed for those waiting on the writer. */
  notify(): void;
  /** Debug logger. */
  debug: DebugLog;
}

/** The sink's view of Redis being reachable; see the module documentation. */
export class Outage {
  /** Whether Redis is away. */
  down = false;
  /** How long the writer waits before trying again, in ms. */
  backoffMs = 0;
  // `Redis at "host:port"`: what messages name.
  readonly #where: string;
  // Where events wait meanwhile: `spool "dir"`, or `memory`.
  readonly #waitsIn: string;
  readonly #hooks: OutageHooks;
  #downSince = 0;
  #droppedAtDown = 0;
  #connectionError: unknown;
  #failure: unknown;
  // The current outage is only replicas too slow for replicas_ack (Redis itself answered).
  #lagOnly = false;

  /** An outage tracker for `where`, with events waiting in `waitsIn` while Redis is away. */
  constructor(where: string, waitsIn: string, hooks: OutageHooks) {
    this.#where = where;
    this.#waitsIn = waitsIn;
    this.#hooks = hooks;
  }

  /** The last connection error, or the failure that made Redis count as away. */
  get cause(): unknown {
    return this.#connectionError ?? this.#failure;
  }

  /** The last connection error, until a connection is ready again. */
  get connectionError(): unknown {
    return this.#connectionError;
  }

  /** Connection of database `db` failed with `error`. */
  connectionFailed(db: number, error: unknown): void {
    // After a refused AUTH the ready check fails with NOAUTH: the first reason is the useful one.
    if (
      /^NOAUTH/.test(String((error as Error)?.message)) &&
      /^WRONGPASS/.test(String((this.#connectionError as Error)?.message))
    ) return;
    if (String(this.#connectionError) !== String(error)) {
      this.#hooks.debug(`db ${db}: ${describeRedisError(error)}`);
    }
    this.#connectionError = error;
  }

  /** A connection is ready again. */
  connected(): void {
    this.#connectionError = undefined;
  }

  /** A connection is gone too: not only the replicas lag. */
  connectionGone(): void {
    this.#lagOnly = false;
  }

  /** Redis failed the sink with `reason`: down (said once), back off longer. */
  markDown(reason: unknown): void {
    this.#failure = reason;
    this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 100), 5000);
    const lagOnly = reason instanceof ReplicaAckError;
    if (this.down && !lagOnly) this.#lagOnly = false;
    if (!this.down) {
      this.#lagOnly = lagOnly;
      this.down = true;
      this.#downSince = now();
      this.#droppedAtDown = this.#hooks.dropped();
      if (this.#hooks.isClosing()) return; // close() cut the connections itself
      const what = lagOnly ? "does not replicate in time" : "is unreachable";
      this.#hooks.status(
        "warning",
        `${this.#where} ${what}: ${this.reason()}; events wait in ${this.#waitsIn}`,
        { error: this.reason() },
      );
    }
    this.#hooks.spillMemory();
    this.#hooks.notify();
  }

  /** Redis answered again; `waited` events waited for it. Said once. */
  markUp(waited: number): void {
    if (!this.down) return;
    this.down = false;
    this.backoffMs = 0;
    const downMs = Math.round(now() - this.#downSince);
    const dropped = this.#hooks.dropped() - this.#droppedAtDown;
    this.#hooks.reportDrops(0, true); // what the 10 s limit held back, so the total is known now
    const what = this.#lagOnly ? "did not replicate in time" : "was unreachable";
    this.#hooks.status(
      "warning",
      `${this.#where} ${what} for ${(downMs / 1000).toFixed(1)}s; ${waited} events waited` +
        (dropped > 0 ? `; ${dropped} dropped` : ""),
      { down_ms: downMs, queued: waited, dropped },
    );
    this.#hooks.notify();
  }

  /** Why Redis is away, as messages say it. */
  reason(): string {
    return describeRedisError(this.cause);
  }
}
