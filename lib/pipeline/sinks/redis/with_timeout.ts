/**
 * {@linkcode withTimeout}: a promise that gives up after a while.
 *
 * @module
 */

/** `promise`, or a rejection with `reason` (or "timed out") after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(reason || "timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
