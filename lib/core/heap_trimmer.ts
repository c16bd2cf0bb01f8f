/**
 * Give the C heap's free memory back to the kernel once things go quiet, as Go's
 * scavenger does for the Go wrapp.
 *
 * glibc keeps what Deno's threads freed (start-up, a burst of lines, a spool replay) in
 * its arenas, resident, until `malloc_trim(0)` hands the free pages back. Measured on
 * `wrapp run`: after a burst of 300,000 lines, anonymous memory 19.7 → 18.5 MiB; on a first
 * run, when V8 compiles without its code cache, 25 → 18 MiB; a warm idle service has
 * ~0.4 MiB to give. V8's own heap is not touched: it shrinks by itself when idle.
 *
 * A {@linkcode HeapTrimmer} trims `quietMs` after it is first touched; any touch meanwhile
 * rides on that timer. V8 frees more buffers on its idle collections over the next ~20 s
 * (measured: 18.6 → 16.6 MiB), so a trim that followed activity is followed by one more,
 * `followUpMs` later. While lines flow it trims at most once per `quietMs`, the last trim
 * always comes after the last touch, and nothing runs while nothing happens.
 *
 * @module
 */

import { glibc } from "./glibc.ts";
import { startTimer, type Timer } from "./timers.ts";

/** The trim function's result: whether memory could be given back (glibc said so). */
export type Trim = () => boolean;

/**
 * `malloc_trim(0)` of glibc, through FFI. `false` when there is no glibc or FFI is not
 * permitted: there is then nothing to trim, and nothing throws.
 */
export function mallocTrim(): boolean {
  return glibc()?.malloc_trim(0n) === 1;
}

/** Options for {@linkcode HeapTrimmer}. */
export interface HeapTrimmerOptions {
  /** How long after a touch to trim, ms. Default 10 000. */
  quietMs?: number;
  /** How long after a trim that followed activity to trim once more, ms. Default 30 000. */
  followUpMs?: number;
  /** The trim. Default {@linkcode mallocTrim}; tests count calls. */
  trim?: Trim;
}

/**
 * Trims the C heap after activity (see the module doc). Its timer keeps the process alive:
 * its owner stops it with {@linkcode HeapTrimmer.close}.
 *
 * ```ts
 * const trimmer = new HeapTrimmer();
 * trimmer.touch(); // work happened: trim within 10 s
 * trimmer.close();
 * ```
 */
export class HeapTrimmer {
  readonly #quietMs: number;
  readonly #followUpMs: number;
  readonly #trim: Trim;
  #timer: Timer | undefined;
  /** Touched since the last trim. */
  #touched = false;
  #closed = false;
  #trims = 0;

  /** A trimmer; nothing is armed until {@linkcode HeapTrimmer.touch}. */
  constructor(options: HeapTrimmerOptions = {}) {
    this.#quietMs = options.quietMs ?? 10_000;
    this.#followUpMs = options.followUpMs ?? 30_000;
    this.#trim = options.trim ?? mallocTrim;
  }

  /** How many trims ran. */
  get trims(): number {
    return this.#trims;
  }

  /**
   * Work happened (it may have freed memory): trim within `quietMs`, or with the pending
   * follow-up. Cheap on a hot path.
   */
  touch(): void {
    this.#touched = true;
    if (this.#timer === undefined && !this.#closed) this.#arm(this.#quietMs);
  }

  /** Stop: a pending trim is dropped, later touches do nothing. */
  close(): void {
    this.#closed = true;
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = startTimer(() => {
      this.#timer = undefined;
      this.#trims++;
      this.#trim();
      const followsActivity = this.#touched;
      this.#touched = false;
      if (followsActivity) this.#arm(this.#followUpMs);
    }, ms);
  }
}
