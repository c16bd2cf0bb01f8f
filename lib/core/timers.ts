/**
 * One-shot timers on Deno's core timers, for the timers a supervisor arms now and then
 * (timeouts, fsync delays, health checks, polls at start).
 *
 * Deno 2.9's `setTimeout` is Deno's Node timers, loaded on its first call: 11 ms of CPU on
 * wrapp's start path, and 3 MiB of RSS for as long as wrapp runs (an empty script awaiting
 * `AbortSignal.timeout` keeps 31.8 MiB RSS, one awaiting `setTimeout` 34.9). An
 * `AbortSignal.timeout` runs on the core's own timers and loads nothing, but costs 12-22 µs
 * per timer against 3-4: a timer armed per line or per batch stays a `setTimeout`.
 *
 * @module
 */

/** A running timer. */
export interface Timer {
  /** Stop it: the callback is not called (harmless after it fired). */
  clear(): void;
}

// AbortSignal's own addEventListener refs its timer (it keeps the process alive); the
// EventTarget one leaves it as created, unref'd.
const _addUnrefListener = EventTarget.prototype.addEventListener;

/**
 * Call `callback` once after `ms` milliseconds (at most 2^31 − 1: see `long_timeout.ts`).
 * `unref`: the timer does not keep the process alive.
 */
export function startTimer(callback: () => void, ms: number, unref = false): Timer {
  const delay = Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0;
  const signal = AbortSignal.timeout(delay);
  let cleared = false;
  const fire = () => {
    if (!cleared) callback();
  };
  if (unref) _addUnrefListener.call(signal, "abort", fire, { once: true });
  else signal.addEventListener("abort", fire, { once: true });
  return {
    clear() {
      cleared = true;
      // Removing the last listener unrefs the timer: a cleared timer holds nothing.
      signal.removeEventListener("abort", fire);
    },
  };
}

/** Resolve after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => startTimer(resolve, ms));
}
