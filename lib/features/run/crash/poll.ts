/**
 * Waiting for something that shows up later (a core file, a coredumpctl record), by
 * asking again at an interval.
 *
 * @module
 */

/** Call `check` every `pollMs` until it returns a value or `timeoutMs` passes. */
export async function pollUntil<T>(
  timeoutMs: number,
  pollMs = 100,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) return undefined;
    await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())));
  }
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
