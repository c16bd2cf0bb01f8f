/**
 * A crash report for tests: a SIGSEGV in `crash_here` of /opt/svc, found in a core file,
 * with three frames. Used by the report's tests (run/crash) and the encoders' (pipeline).
 *
 * @module
 */

import type { CrashFrame, CrashReport } from "./crash.ts";

/** Frame `index` of a backtrace, in function `fn`. */
export function frame(index: number, fn: string, extra: Partial<CrashFrame> = {}): CrashFrame {
  return { index, function: fn, address: `0x${(0x1000 + index).toString(16)}`, ...extra };
}

/** The sample report, with `extra` fields replaced. */
export function report(extra: Partial<CrashReport> = {}): CrashReport {
  return {
    service: "svc",
    pid: 4242,
    signal: "SIGSEGV",
    signalNumber: 11,
    shellExitCode: 139,
    executable: "/opt/svc",
    image: "/opt/svc",
    buildId: "0123456789abcdef",
    machine: "aarch64",
    core: {
      path: "/var/crash/core.svc.4242",
      size: 458752,
      via: "file",
      description: "/var/crash/core.svc.4242",
      incomplete: false,
      kept: true,
    },
    source: "core",
    threads: [{
      number: 1,
      lwp: 4242,
      crashed: true,
      frames: [
        frame(0, "crash_here", { args: "p=0x0", file: "segv.c", line: 2 }),
        frame(1, "level_one", { args: "p=0x0", file: "segv.c", line: 3 }),
        frame(2, "main", { file: "segv.c", line: 4 }),
      ],
    }],
    faultAddress: "0x0",
    instruction: "0x1000 <crash_here+12>:\tstr\tw1, [x0]",
    problems: [],
    crashTime: 1_700_000_000_000,
    captureMs: 250,
    ...extra,
  };
}
