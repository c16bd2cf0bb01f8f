/**
 * Doctor's kernel line: the running kernel's release, and whether it is recent enough for
 * wrapp's eBPF programs.
 *
 * @module
 */

import type { CheckResult } from "./check_result.ts";

/** Oldest kernel wrapp's eBPF programs run on (bpftrace's own minimum). */
export const MIN_KERNEL_VERSION: readonly [number, number] = [4, 9];

/** A kernel release's version numbers: `6.8.0-45-generic` → `[6, 8, 0]`; undefined when unreadable. */
export function parseKernelRelease(release: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** The kernel line: its release, and whether it is recent enough for eBPF. */
export function kernelResult(release: string, arch: string = Deno.build.arch): CheckResult {
  const version = parseKernelRelease(release);
  const minimum = MIN_KERNEL_VERSION.join(".");
  if (!version) {
    return {
      check: "kernel",
      status: "warning",
      message:
        `Linux "${release}" (${arch}): cannot tell its version; eBPF needs ${minimum} or newer`,
      fix: "check uname -r",
    };
  }
  const [major, minor] = version;
  if (
    major < MIN_KERNEL_VERSION[0] ||
    (major === MIN_KERNEL_VERSION[0] && minor < MIN_KERNEL_VERSION[1])
  ) {
    return {
      check: "kernel",
      status: "missing",
      message:
        `Linux ${release} (${arch}) is too old for eBPF tracing: bpftrace needs ${minimum} or newer (wrapp trace, memprof, record, [trace])`,
      fix: `a kernel ${minimum} or newer (JetPack 5 has 5.10, JetPack 6 has 5.15)`,
    };
  }
  return { check: "kernel", status: "ok", message: `Linux ${release} (${arch})` };
}
