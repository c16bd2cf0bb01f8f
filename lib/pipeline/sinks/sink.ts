/**
 * The interface every sink implements.
 *
 * @module
 */

import type { Event } from "../../core/event.ts";

/**
 * Counters every sink keeps, reported in the exit status event.
 *
 * @example A sink's counters
 * ```ts
 * import { MemorySink, type SinkStats } from "@wrapp/wrapp";
 *
 * const stats: SinkStats = new MemorySink().stats();
 * console.log(`${stats.sent} of ${stats.received} sent, ${stats.dropped} dropped`);
 * ```
 */
export interface SinkStats {
  /** Events handed to the sink. */
  received: number;
  /** Events the sink delivered to its destination. */
  sent: number;
  /** Events given up on (only when configured limits are exhausted). */
  dropped: number;
  /** Failed write attempts. */
  errors: number;
}

/**
 * A destination for events. Writes must return quickly: a sink queues, it never makes the source wait.
 *
 * @example A sink that counts lines
 * ```ts
 * import type { Event, Sink, SinkStats } from "@wrapp/wrapp";
 *
 * class LineCounter implements Sink {
 *   readonly name = "line-counter";
 *   lines = 0;
 *   #stats: SinkStats = { received: 0, sent: 0, dropped: 0, errors: 0 };
 *
 *   write(batch: readonly Event[]): void {
 *     this.#stats.received += batch.length;
 *     this.#stats.sent += batch.length;
 *     this.lines += batch.filter((event) => event.kind === "log").length;
 *   }
 *   flush(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   healthCheck(): Promise<string | undefined> {
 *     return Promise.resolve(undefined);
 *   }
 *   stats(): SinkStats {
 *     return { ...this.#stats };
 *   }
 * }
 * ```
 */
export interface Sink {
  /** Short name used in messages: `trace`, `redis`, `memory`. */
  readonly name: string;
  /** Accept a batch of events, in order. */
  write(batch: readonly Event[]): void;
  /** Resolve once every event accepted so far has been delivered (or counted as dropped). */
  flush(): Promise<void>;
  /** Flush, then release resources. Idempotent. */
  close(): Promise<void>;
  /** `undefined` when healthy, else a sentence saying what is wrong. */
  healthCheck(): Promise<string | undefined>;
  /** Current counters. */
  stats(): SinkStats;
  /**
   * `undefined` while the sink has room; otherwise a promise that resolves once it has
   * drained enough. Sources that may wait (the child's output pipes) await it, so a sink
   * that cannot keep up slows the producer instead of losing events.
   */
  waitForCapacity?(): Promise<void> | undefined;
}

/** Fresh zeroed counters. */
export function emptyStats(): SinkStats {
  return { received: 0, sent: 0, dropped: 0, errors: 0 };
}
