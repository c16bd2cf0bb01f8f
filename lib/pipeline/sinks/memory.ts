/**
 * A sink that keeps events in an array, for tests of everything upstream.
 *
 * @module
 */

import type { Event } from "../../core/event.ts";
import { emptyStats, type Sink, type SinkStats } from "./sink.ts";

/**
 * Keeps every event it receives in {@linkcode MemorySink.events}.
 *
 * @example Keeping what the service printed, in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemorySink, now, Router } from "@wrapp/wrapp";
 *
 * const sink = new MemorySink();
 * const router = new Router([sink]);
 * router.emit({ kind: "log", time: now(), stream: "stderr", text: "warning: low disk" });
 * await router.close();
 * assert.deepEqual(sink.events.map((event) => event.kind), ["log"]);
 * assert.equal(sink.stats().sent, 1);
 * ```
 */
export class MemorySink implements Sink {
  readonly name = "memory";
  /** Everything written so far, in order. */
  readonly events: Event[] = [];
  #stats = emptyStats();
  #closed = false;

  /** Append a batch. */
  write(batch: readonly Event[]): void {
    this.#stats.received += batch.length;
    this.#stats.sent += batch.length;
    this.events.push(...batch);
  }

  /** Nothing to flush. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Mark closed. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Healthy until closed. */
  healthCheck(): Promise<string | undefined> {
    return Promise.resolve(this.#closed ? "memory sink is closed" : undefined);
  }

  /** Current counters. */
  stats(): SinkStats {
    return { ...this.#stats };
  }
}
