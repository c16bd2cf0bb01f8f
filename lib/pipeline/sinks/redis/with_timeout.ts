/**
 * {@linkcode withTimeout}: a promise that gives up after a while.
 *
 * @module
 */

import { startTimer, type Timer } from "../../../core/timers.ts";

/** `promise`, or a rejection with `reason` (or "timed out") after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: Timer | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = startTimer(() => reject(new Error(reason || "timed out")), ms);
    }),
  ]).finally(() => timer?.clear());
}
