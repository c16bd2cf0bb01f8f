/**
 * Doctor's crash lines: which eBPF programs record crash stacks, and whether a crash
 * leaves a core wrapp can read.
 *
 * @module
 */

import type { CoreDumpCheck, CrashWatcherEngine } from "../run/mod.ts";
import type { CheckResult } from "./check_result.ts";

/**
 * The crash watcher line: which programs will record crash stacks, the native ones
 * (loaded by wrapp, no bpftrace process) or bpftrace, and why; for the native ones, whether
 * the kernel has uprobes (`noUprobes` says why not), without which every service's maps are
 * re-read each second instead of when its dynamic loader maps a library.
 */
export function crashWatcherResult(
  probe: {
    root: boolean;
    engine: CrashWatcherEngine;
    nativeFailure?: string;
    noUprobes?: string;
  },
): CheckResult {
  const check = "crash eBPF";
  if (!probe.root) {
    return {
      check,
      status: "warning",
      message: "not root: no eBPF crash backtraces (cores and gdb still work)",
      fix: "run wrapp as root",
    };
  }
  if (probe.engine === "bpftrace") {
    return {
      check,
      status: "ok",
      message:
        "bpftrace, as $WRAPP_CRASH_WATCHER asks (about 100 MiB and 1 s of start-up per wrapp)",
    };
  }
  if (probe.nativeFailure === undefined && probe.noUprobes === undefined) {
    return {
      check,
      status: "ok",
      message:
        "native eBPF programs loaded by wrapp (no bpftrace); a uprobe on the dynamic loader says when a service maps a library",
    };
  }
  if (probe.nativeFailure === undefined) {
    return {
      check,
      status: "warning",
      message:
        `native eBPF programs loaded by wrapp (no bpftrace), but no uprobes: ${probe.noUprobes}; each service's maps are re-read every second instead of at each dlopen`,
      fix: "a kernel with uprobes (CONFIG_UPROBE_EVENTS, Linux 4.17 or newer)",
    };
  }
  return {
    check,
    status: probe.engine === "native" ? "missing" : "warning",
    message: `the native programs cannot load: ${probe.nativeFailure}; ${
      probe.engine === "native"
        ? "no eBPF crash backtraces ($WRAPP_CRASH_WATCHER=native)"
        : "bpftrace will be used (about 100 MiB and 1 s more per wrapp)"
    }`,
    fix: "Linux 5.8 or newer (BPF ring buffer) and CAP_BPF, CAP_PERFMON (or CAP_SYS_ADMIN)",
  };
}

/** The core-dump line from {@linkcode checkCoreDumps}'s verdict. */
export function coreDumpResult(check: CoreDumpCheck): CheckResult {
  if (check.ok && /so services write no core unless/.test(check.message)) {
    // Cores would be kept, but wrapp's RLIMIT_CORE of 0 is what services inherit.
    return {
      check: "core dumps",
      status: "warning",
      message: check.message,
      fix:
        "set [crash] core_dumps = true in the service config (or raise LimitCORE= of wrapp's unit)",
    };
  }
  if (check.ok) return { check: "core dumps", status: "ok", message: check.message };
  let fix: string;
  if (/discarded|cannot read back/.test(check.message)) {
    fix =
      "sysctl -w kernel.core_pattern=/var/crash/core.%e.%p.%t (and mkdir -p -m 1777 /var/crash)";
  } else if (/folder "([^"]+)"/.test(check.message)) {
    const folder = /folder "([^"]+)"/.exec(check.message)![1];
    fix = `mkdir -p -m 1777 ${folder}`;
  } else if (/coredumpctl is missing/.test(check.message)) {
    fix = "apt-get install systemd-coredump";
  } else if (/Storage=none/.test(check.message)) {
    fix = "set Storage=external in /etc/systemd/coredump.conf";
  } else if (/core_dumps = true/.test(check.message)) {
    fix = "set [crash] core_dumps = true in the service config";
  } else {
    fix = "sysctl -w kernel.core_pattern=/var/crash/core.%e.%p.%t";
  }
  return {
    check: "core dumps",
    status: "missing",
    message: `${check.message} (crash reports will have no core, hence no backtrace)`,
    fix,
  };
}
