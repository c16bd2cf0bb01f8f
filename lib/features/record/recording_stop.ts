/**
 * How a recording is stopped from outside: the first SIGINT, SIGTERM or SIGHUP asks for a
 * clean stop (the results are still written), a second one forces it (no more grace
 * periods, every process group killed at once).
 *
 * @module
 */

/** What {@linkcode RecordingStop} does on the first and on a later signal. */
export interface RecordingStopHandlers {
  /** The first signal: a clean stop begins. */
  onFirst(signal: Deno.Signal): void;
  /** A later signal: stop at once. */
  onForce(): void;
}

/** The stop signals of one recording; {@linkcode RecordingStop.close} stops listening. */
export class RecordingStop {
  /** Resolves with the first signal. */
  readonly requested: Promise<Deno.Signal>;
  readonly #resolve: (signal: Deno.Signal) => void;
  readonly #handlers: [Deno.Signal, () => void][] = [];
  #signal: Deno.Signal | undefined;
  #forced = false;

  /** Listen for SIGINT, SIGTERM and SIGHUP from now on. */
  constructor(handlers: RecordingStopHandlers) {
    const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
    this.requested = promise;
    this.#resolve = resolve;
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const handler = () => {
        if (this.#signal === undefined) {
          this.#signal = signal;
          handlers.onFirst(signal);
          this.#resolve(signal);
        } else {
          this.#forced = true;
          handlers.onForce();
        }
      };
      try {
        Deno.addSignalListener(signal, handler);
        this.#handlers.push([signal, handler]);
      } catch {
        // Not supported here.
      }
    }
  }

  /** The first signal, once one came. */
  get signal(): Deno.Signal | undefined {
    return this.#signal;
  }

  /** A grace period of `ms`, or none once a second signal forced the stop. */
  grace(ms: number): number {
    return this.#forced ? 0 : ms;
  }

  /** Stop listening. */
  close(): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
  }
}
