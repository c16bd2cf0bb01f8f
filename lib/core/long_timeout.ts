/**
 * Timers for durations of any length.
 *
 * `setTimeout` and `setInterval` hold their delay in a signed 32-bit integer: a delay of
 * 2^31 ms (about 24.8 days) or more fires after 1 ms instead. A duration a user
 * configures (`stop_grace = "600h"`, `wrapp trace --duration 600h`) must wait as long as
 * written, so every timer armed from a config value or a flag goes through
 * {@linkcode setLongTimeout} or {@linkcode setLongInterval}, which chain timers of at
 * most {@linkcode MAX_TIMER_MS} until the deadline. They run on Deno's core timers
 * (`timers.ts`), not on `setTimeout`.
 *
 * @module
 */

import { startTimer, type Timer } from "./timers.ts";

/** The longest delay `setTimeout` honours: 2^31 − 1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@linkcode setLongTimeout} and {@linkcode setLongInterval}. */
export interface LongTimerOptions {
  /** The timer does not keep the process alive. Default `false`. */
  unref?: boolean;
  /** Longest single `setTimeout` of the chain. Default {@linkcode MAX_TIMER_MS}; tests lower it. */
  maxSegmentMs?: number;
}

/** A running long timer: {@linkcode LongTimer.clear} stops it (harmless when it already fired). */
export interface LongTimer {
  /** Stop the timer: the callback is not called (again). */
  clear(): void;
}

/**
 * Call `callback` once after `ms` milliseconds, however long that is. `Infinity` never
 * fires; a negative or NaN delay fires as soon as possible, like `setTimeout`.
 *
 * ```ts
 * const timer = setLongTimeout(() => console.log("600 h later"), 600 * 3600_000);
 * timer.clear();
 * ```
 */
export function setLongTimeout(
  callback: () => void,
  ms: number,
  options: LongTimerOptions = {},
): LongTimer {
  const segment = options.maxSegmentMs ?? MAX_TIMER_MS;
  const delay = Number.isNaN(ms) || ms < 0 ? 0 : ms;
  const deadline = performance.now() + delay;
  let timer: Timer | undefined;
  let cleared = false;
  const arm = (left: number) => {
    if (left === Infinity) return; // never fires: no timer, nothing keeps the process alive
    timer = startTimer(step, Math.min(left, segment), options.unref);
  };
  // The clock decides, not the count of segments: a timer that fired late is not stretched.
  const step = () => {
    timer = undefined;
    if (cleared) return;
    const left = deadline - performance.now();
    if (left > 0 && delay > segment) arm(left);
    else callback();
  };
  arm(delay);
  return {
    clear() {
      cleared = true;
      timer?.clear();
      timer = undefined;
    },
  };
}

/**
 * Call `callback` every `ms` milliseconds, however long that is, until cleared: each call is
 * `ms` after the previous one. `Infinity` never fires.
 */
export function setLongInterval(
  callback: () => void,
  ms: number,
  options: LongTimerOptions = {},
): LongTimer {
  const period = Number.isNaN(ms) || ms < 1 ? 1 : ms;
  let current: LongTimer | undefined;
  let cleared = false;
  const next = () => {
    current = setLongTimeout(
      () => {
        if (cleared) return;
        next(); // armed before the call, so a callback that clears the timer stops it
        callback();
      },
      period,
      options,
    );
  };
  next();
  return {
    clear() {
      cleared = true;
      current?.clear();
    },
  };
}
