/**
 * When to restart the service, and after how long: capped exponential backoff that
 * resets after a run that lasted, and a limit of restarts within a sliding window
 * (PM2's and systemd's lessons: tunable, capped, resetting).
 *
 * @module
 */

import type { RestartConfig } from "../../core/config/config.ts";
import { describeExit, type ExitStatus } from "../../core/signals.ts";

/** What to do after the service exited. */
export type RestartDecision =
  | { action: "exit"; reason: string; gaveUp: boolean }
  | { action: "restart"; reason: string; delayMs: number; attempt: number };

/** Decides restarts for one supervised service; keeps the backoff state between runs. */
export class RestartPolicy {
  readonly #config: RestartConfig;
  #nextDelayMs: number;
  #attempt = 0;
  #recent: number[] = [];

  /** A policy following `[restart]`. */
  constructor(config: RestartConfig) {
    this.#config = config;
    this.#nextDelayMs = config.delayMs;
  }

  /**
   * Decide after a run that ended with `exit` at time `now` (ms) after `uptimeMs`. A run
   * the watchdog stopped (`hung` says why) failed, whatever its exit.
   */
  decide(
    exit: ExitStatus,
    uptimeMs: number,
    now: number,
    options: { hung?: string } = {},
  ): RestartDecision {
    const { policy } = this.#config;
    const failed = options.hung !== undefined || exit.signal !== undefined || exit.code !== 0;
    const how = options.hung !== undefined
      ? `${describeExit(exit)}, stopped by the watchdog (${options.hung})`
      : describeExit(exit);
    if (policy === "never") {
      return {
        action: "exit",
        reason: `ended with ${how}; restart policy is "never"`,
        gaveUp: false,
      };
    }
    if (policy === "on-failure" && !failed) {
      return {
        action: "exit",
        reason: `ended with ${how}; restart policy is "on-failure"`,
        gaveUp: false,
      };
    }
    this.#recent = this.#recent.filter((time) => now - time < this.#config.windowMs);
    if (this.#recent.length >= this.#config.maxRestarts) {
      return {
        action: "exit",
        reason: `ended with ${how}; giving up after ${this.#recent.length} restarts within ${
          _seconds(this.#config.windowMs)
        }`,
        gaveUp: true,
      };
    }
    // A run that lasted resets the backoff: the service was healthy, this is a new failure.
    if (uptimeMs >= this.#config.resetAfterMs) this.#nextDelayMs = this.#config.delayMs;
    const delayMs = Math.min(this.#nextDelayMs, this.#config.maxDelayMs);
    this.#nextDelayMs = Math.min(Math.max(delayMs * 2, 1), this.#config.maxDelayMs);
    this.#recent.push(now);
    this.#attempt++;
    return {
      action: "restart",
      reason: `ended with ${how} after ${_seconds(uptimeMs)}; restart policy is "${policy}"`,
      delayMs,
      attempt: this.#attempt,
    };
  }
}

function _seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
