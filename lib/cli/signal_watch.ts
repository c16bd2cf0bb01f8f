/**
 * The signals that end a `wrapp trace` or `wrapp memprof` session.
 *
 * @module
 */

import { type LongTimer, setLongTimeout } from "../core/long_timeout.ts";

/**
 * SIGINT, SIGTERM and SIGHUP (or an abort) while a command traces or profiles: `first`
 * resolves on the first, `next()` on a later one, and each is also handed to `forward`
 * (e.g. to pass it on to a launched command). Timers set here are cleared by `close()`.
 */
export class SignalWatch {
  readonly #handlers: [Deno.Signal, () => void][] = [];
  readonly #timers: LongTimer[] = [];
  readonly #abort: AbortSignal | undefined;
  readonly #onAbort: () => void;
  #waiters: Array<() => void> = [];
  readonly first: Promise<void>;

  constructor(abort: AbortSignal | undefined, forward: (signal: Deno.Signal) => void) {
    this.first = new Promise((resolve) => this.#waiters.push(resolve));
    const fire = (signal?: Deno.Signal) => {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
      if (signal) forward(signal);
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const handler = () => fire(signal);
      try {
        Deno.addSignalListener(signal, handler);
        this.#handlers.push([signal, handler]);
      } catch {
        // Not supported here: the default action applies.
      }
    }
    this.#abort = abort;
    this.#onAbort = () => fire("SIGTERM");
    abort?.addEventListener("abort", this.#onAbort, { once: true });
    if (abort?.aborted) this.#onAbort();
  }

  /** Resolves on the next signal after the ones seen so far. */
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Call `callback` after `ms` (a `--duration`: any length, see {@linkcode setLongTimeout}). */
  timer(callback: () => void, ms: number): void {
    this.#timers.push(setLongTimeout(callback, ms));
  }

  close(): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
    for (const timer of this.#timers) timer.clear();
    this.#abort?.removeEventListener("abort", this.#onAbort);
  }
}
