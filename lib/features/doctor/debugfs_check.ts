/**
 * Doctor's debugfs line: the mounted filesystems, and whether tracing is reachable
 * without debugfs.
 *
 * @module
 */

import type { CheckResult } from "./check_result.ts";
import type { Mount } from "../../core/mounts.ts";

/**
 * The debugfs line. Old kernels show tracing only under debugfs
 * (`/sys/kernel/debug/tracing`); with tracefs mounted on its own, debugfs is not needed.
 */
export function debugfsResult(mounts: readonly Mount[], tracefs: string | undefined): CheckResult {
  const debugfs = mounts.find((m) => m.type === "debugfs");
  if (debugfs) return { check: "debugfs", status: "ok", message: `debugfs at ${debugfs.dir}` };
  if (tracefs !== undefined) {
    return {
      check: "debugfs",
      status: "ok",
      message: `not mounted; not needed: tracefs is at ${tracefs}`,
    };
  }
  return {
    check: "debugfs",
    status: "warning",
    message:
      "not mounted, and neither is tracefs: kernels without a separate tracefs show tracing only under debugfs",
    fix: "mount -t debugfs nodev /sys/kernel/debug",
  };
}
