/**
 * {@linkcode BurstPacer}: reads a bursting service only as fast as a healthy Redis takes its
 * lines, so a burst waits in the pipe rather than in wrapp's memory and spool.
 *
 * Without it, `seq 1000000` outran the sender, spilled 90 % of its lines into the disk spool
 * (JSON out, JSON back in) and peaked at ~330 MiB. Pacing applies only while Redis keeps
 * acknowledging batches: once a hold sees no delivery for `stallMs`, the sink stops holding
 * until Redis delivers again, and the burst goes to the memory queue and the spool as
 * before. A stalled or absent Redis therefore never holds the service longer than
 * `stallMs` at a time.
 *
 * @module
 */

import type { ProgressWaiters } from "./wakeups.ts";

/** What a {@linkcode BurstPacer} reads of its sink. */
export interface PacerHooks {
  /** Events waiting in memory for Redis. */
  queued(): number;
  /** Events delivered (or counted as dropped) so far. */
  delivered(): number;
  /** Whether the sink holds its events back anyway (Redis down, closing). */
  paused(): boolean;
  /** Woken when the writer made progress. */
  progress: ProgressWaiters;
}

/** Limits of a {@linkcode BurstPacer}. */
export interface PacerLimits {
  /** Hold the producer once this many events wait in memory. */
  holdAt: number;
  /** Let it go on once fewer than this wait. */
  resumeAt: number;
  /** A hold that sees no delivery for this long ends pacing until Redis delivers again. */
  stallMs: number;
}

/** See the module documentation. */
export class BurstPacer {
  readonly #hooks: PacerHooks;
  readonly #limits: PacerLimits;
  /** `delivered()` when a hold last saw Redis stall: no holds until it moves. */
  #stalledAt = -1;

  /** Pace with `limits`, reading the sink through `hooks`. */
  constructor(hooks: PacerHooks, limits: PacerLimits) {
    this.#hooks = hooks;
    this.#limits = limits;
  }

  /** `undefined` when the producer may go on, else a promise resolving when it may. */
  wait(): Promise<void> | undefined {
    const hooks = this.#hooks;
    if (hooks.queued() < this.#limits.holdAt || hooks.paused()) return undefined;
    if (hooks.delivered() === this.#stalledAt) return undefined;
    return this.#hold();
  }

  async #hold(): Promise<void> {
    const hooks = this.#hooks;
    let before = hooks.delivered();
    let deadline = performance.now() + this.#limits.stallMs;
    while (hooks.queued() >= this.#limits.resumeAt && !hooks.paused()) {
      const delivered = hooks.delivered();
      if (delivered !== before) {
        before = delivered;
        deadline = performance.now() + this.#limits.stallMs;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#stalledAt = delivered;
        return;
      }
      await hooks.progress.wait(left);
    }
  }
}
