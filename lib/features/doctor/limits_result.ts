/**
 * Doctor's `[limits]` line: how the config's limits will be enforced, and why.
 *
 * @module
 */

import { describeSize } from "../../core/config/parse_size.ts";
import type { LimitsConfig } from "../../core/config/config.ts";
import type { LimitsPlan } from "../run/mod.ts";
import type { CheckResult } from "./check_result.ts";

/** The `[limits]` line: how the limits will be enforced, and why. */
export function limitsResult(plan: LimitsPlan, limits: LimitsConfig): CheckResult {
  const what = [
    ...(limits.memoryMaxBytes !== undefined
      ? [`memory_max ${describeSize(limits.memoryMaxBytes)}`]
      : []),
    ...(limits.cpuMaxPercent !== undefined ? [`cpu_max ${limits.cpuMaxPercent}%`] : []),
  ].join(", ");
  const fix =
    "run wrapp as root where cgroups are mounted writable, for limits the kernel enforces";
  switch (plan.method) {
    case "cgroup":
      return {
        check: "limits",
        status: "ok",
        message: `${what} in a cgroup of the service's own, because ${plan.reason}`,
      };
    case "rss":
      return {
        check: "limits",
        status: "warning",
        message:
          `memory_max: wrapp stops the service when its RSS goes over it, because ${plan.reason}${
            plan.unenforced ? `; ${plan.unenforced}` : ""
          }`,
        fix,
      };
    case "none":
      return {
        check: "limits",
        status: "warning",
        message: plan.unenforced ?? `${what} not enforced: ${plan.reason}`,
        fix,
      };
  }
}
