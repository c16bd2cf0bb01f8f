/**
 * What a check of `wrapp doctor` yields: one line of the report, its status, and how the
 * lines add up to an exit code.
 *
 * @module
 */

/** How a check came out. */
export type CheckStatus = "ok" | "warning" | "missing";

/** One line of the report. */
export interface CheckResult {
  /** Short name: `root`, `bpftrace`, `redis`… */
  check: string;
  /** `missing` means a feature will not work; `warning` that it works with less. */
  status: CheckStatus;
  /** What was found, one sentence. Never holds a password. */
  message: string;
  /** What to do about it (a command, a sysctl, a config key), for a problem. */
  fix?: string;
  /** False when the `--config` service does not use what this check is for. Default true. */
  needed?: boolean;
}

/** A check to run: it may answer for several names (preflight answers for five). */
export interface DoctorCheck {
  /** The names of the results it yields, in order (used when it fails or times out). */
  names: readonly string[];
  /** Run it. It should not throw; if it does, its names are reported as warnings. */
  run: () => Promise<CheckResult[]>;
  /**
   * The check bounds its own waits (a network answer) and reports a timeout as its own
   * verdict, so {@linkcode runChecks} gives it no budget of its own: on a busy machine the
   * set-up before the wait (loading a client) would eat that budget and turn "no answer"
   * into "could not be checked". Default `false`.
   */
  timesItself?: boolean;
}

/**
 * How many results are missing and needed (problems), warnings, and missing but not
 * needed by the `--config` service.
 */
export function countResults(results: readonly CheckResult[]): {
  problems: number;
  warnings: number;
  unneeded: number;
} {
  return {
    problems: results.filter((r) => r.status === "missing" && r.needed !== false).length,
    warnings: results.filter((r) => r.status === "warning").length,
    unneeded: results.filter((r) => r.status === "missing" && r.needed === false).length,
  };
}

/** 1 when something needed is missing, else 0. */
export function exitCodeOf(results: readonly CheckResult[]): number {
  return countResults(results).problems > 0 ? 1 : 0;
}
