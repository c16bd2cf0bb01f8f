/**
 * {@linkcode SendWatch}: notices a batch whose replies do not come (a hung Redis) with one
 * timer for every batch, instead of a setTimeout/clearTimeout per batch.
 *
 * @module
 */

import { startTimer, type Timer } from "../../../core/timers.ts";

/** Watches the batch being sent; one at a time. */
export class SendWatch {
  // The batch being sent: when it is stuck, and what to do then.
  #watch: { deadline: number; onStuck: () => void } | undefined;
  #timer: Timer | undefined;

  /**
   * Call `onStuck` unless {@linkcode SendWatch.done} comes within `timeoutMs`. One timer
   * serves many batches: it is armed when none is, and when it fires early for the batch
   * now in flight, it is armed again for the rest of its time.
   */
  start(timeoutMs: number, onStuck: () => void): void {
    this.#watch = { deadline: performance.now() + timeoutMs, onStuck };
    if (this.#timer === undefined) this.#arm(timeoutMs);
  }

  /** The batch has its replies. */
  done(): void {
    this.#watch = undefined;
  }

  /** No batch will be sent any more: the timer goes too. */
  stop(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      const watch = this.#watch;
      if (watch === undefined) return;
      const left = watch.deadline - performance.now();
      if (left > 0) return this.#arm(left);
      this.#watch = undefined;
      watch.onStuck();
    }, Math.max(0, Math.ceil(ms)));
  }
}
