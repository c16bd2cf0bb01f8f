/**
 * A deadline that activity keeps pushing back, on one timer and without polling:
 * {@linkcode DeadlineTimer.kick} only notes the time (cheap enough for every output line),
 * and when the timer fires early because of a kick it is re-armed for what is left.
 * So a service that keeps talking costs one wake-up per period, and a silent one exactly one.
 *
 * @module
 */

import { type LongTimer, setLongTimeout } from "../../../core/long_timeout.ts";

/** Options for {@linkcode DeadlineTimer}. */
export interface DeadlineTimerOptions {
  /** Called once the period passed without a kick, with the ms since the last kick (or the start). */
  onExpire: (silentMs: number) => void;
  /** The clock, ms. Default `performance.now`. */
  now?: () => number;
}

/** A re-armed timeout: expires when no {@linkcode DeadlineTimer.kick} came for `periodMs`. */
export class DeadlineTimer {
  readonly #onExpire: (silentMs: number) => void;
  readonly #now: () => number;
  #periodMs = 0;
  #last = 0;
  #timer: LongTimer | undefined;

  /** A stopped timer; {@linkcode DeadlineTimer.start} arms it. */
  constructor(options: DeadlineTimerOptions) {
    this.#onExpire = options.onExpire;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether it is armed. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** The period it is armed with, ms (0 when stopped). */
  get periodMs(): number {
    return this.#timer ? this.#periodMs : 0;
  }

  /** Arm it for `periodMs` from now (again, when it runs). */
  start(periodMs: number): void {
    this.stop();
    this.#periodMs = periodMs;
    this.#last = this.#now();
    this.#arm(periodMs);
  }

  /** Activity: the deadline moves to `periodMs` from now. Does nothing while stopped. */
  kick(): void {
    this.#last = this.#now();
  }

  /** Disarm it; it does not fire until started again. */
  stop(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setLongTimeout(() => this.#fire(), ms);
  }

  #fire(): void {
    this.#timer = undefined;
    const silent = this.#now() - this.#last;
    // A kick came since the timer was armed: wait for what is left of its period.
    if (silent < this.#periodMs) return this.#arm(this.#periodMs - silent);
    this.#onExpire(silent);
  }
}
