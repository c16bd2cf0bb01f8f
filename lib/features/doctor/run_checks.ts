/**
 * Run doctor's checks side by side, each within a time budget, and keep their order.
 *
 * @module
 */

import { describeCause } from "../../core/errors.ts";
import type { CheckResult, DoctorCheck } from "./check_result.ts";

/** Each check is given this long before it is reported as timed out, ms. */
export const CHECK_TIMEOUT_MS = 2500;

/**
 * Run `checks` concurrently, each given `timeoutMs`, and return their results in the
 * order of `checks`. A check that throws or times out is reported as a warning per name.
 */
export async function runChecks(
  checks: readonly DoctorCheck[],
  timeoutMs: number = CHECK_TIMEOUT_MS,
): Promise<CheckResult[]> {
  const settled = await Promise.all(checks.map(async (check) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const outcome =
        await (check.timesItself ? check.run() : Promise.race([check.run(), timeout]));
      if (outcome === "timeout") {
        return check.names.map((check): CheckResult => ({
          check,
          status: "warning",
          message: `could not be checked: no answer within ${timeoutMs} ms`,
        }));
      }
      return outcome;
    } catch (error) {
      return check.names.map((check): CheckResult => ({
        check,
        status: "warning",
        message: `could not be checked: ${describeCause(error)}`,
      }));
    } finally {
      clearTimeout(timer);
    }
  }));
  return settled.flat();
}
