/**
 * How the Redis sink's writer loop and its callers wait for each other: the writer sleeps
 * until kicked ({@linkcode WriterWakeup}), callers wait until the writer made progress
 * ({@linkcode ProgressWaiters}).
 *
 * @module
 */

import { startTimer } from "../../../core/timers.ts";

/** One sleeper (the writer loop) that new events, a ready connection or close() wake up. */
export class WriterWakeup {
  #wake: (() => void) | undefined;

  /** Sleep `ms` (`Infinity`: until kicked) or until {@linkcode WriterWakeup.kick}. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? startTimer(() => done(), ms) : undefined;
      const done = () => {
        timer?.clear();
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
    });
  }

  /** Wake the sleeper, if any. */
  kick(): void {
    this.#wake?.();
  }
}

/** Callers waiting for the writer to deliver something (flush, waitForCapacity). */
export class ProgressWaiters {
  #waiting: (() => void)[] = [];

  /** Resolve at the next {@linkcode ProgressWaiters.notify}, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = startTimer(() => done(), ms);
      const done = () => {
        timer.clear();
        resolve();
      };
      this.#waiting.push(done);
    });
  }

  /** Something changed: every waiter looks again. */
  notify(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }
}
