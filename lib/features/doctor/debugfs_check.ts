/**
 * Doctor's debugfs line: the mounted filesystems, and whether tracing is reachable
 * without debugfs.
 *
 * @module
 */

import type { CheckResult } from "./check_result.ts";

/** One line of `/proc/self/mounts`. */
export interface Mount {
  device: string;
  dir: string;
  type: string;
}

/** The mounted filesystems (from `/proc/self/mounts`; `\040` in paths decoded). */
export async function readMounts(mountsFile = "/proc/self/mounts"): Promise<Mount[]> {
  const text = await Deno.readTextFile(mountsFile);
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [device, dir, type] = line.split(" ");
    return { device: decode(device), dir: decode(dir), type };
  });
}

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
