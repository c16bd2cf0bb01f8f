/**
 * Doctor's eBPF lines from a preflight report: root, bpftrace, tracefs, the tracepoints
 * wrapp attaches to, and BTF.
 *
 * @module
 */

import { MIN_BPFTRACE_VERSION, type PreflightReport } from "../../pipeline/bpf/preflight.ts";
import type { CheckResult } from "./check_result.ts";

/** The tracepoints wrapp's bpftrace programs attach to, and what needs each. */
export const TRACEPOINTS: Readonly<Record<string, string>> = {
  "raw_syscalls:sys_enter": "wrapp trace, wrapp record",
  "raw_syscalls:sys_exit": "wrapp trace, wrapp record",
  "task:task_rename": "wrapp trace, wrapp record (thread names)",
  "sched:sched_process_fork": "wrapp trace, wrapp record, wrapp memprof",
  "kmem:mm_page_alloc": "wrapp memprof",
  "kmem:mm_page_free": "wrapp memprof",
  "signal:signal_generate": "eBPF crash backtraces",
  "sched:sched_process_exec": "eBPF crash backtraces",
};

/** The root, bpftrace, tracefs, tracepoints and BTF lines from a preflight report. */
export function bpfResults(
  report: PreflightReport,
  tracepoints: Readonly<Record<string, string>> = TRACEPOINTS,
): CheckResult[] {
  return [
    _rootResult(report),
    _bpftraceResult(report),
    _tracefsResult(report),
    _tracepointsResult(report, tracepoints),
    _btfResult(report),
  ];
}

function _rootResult(report: PreflightReport): CheckResult {
  return report.root ? { check: "root", status: "ok", message: "running as root" } : {
    check: "root",
    status: "missing",
    message:
      "not running as root: wrapp needs root for [app] user switching, eBPF (trace, memprof, record, [trace]) and mounting tracefs",
    fix: "run wrapp (and wrapp doctor, to see every check) with sudo",
  };
}

function _bpftraceResult(report: PreflightReport): CheckResult {
  const minimum = MIN_BPFTRACE_VERSION.join(".");
  const bpftraceProblem = report.problems.find((p) =>
    p.startsWith("bpftrace") || p.includes("--version")
  );
  if (report.bpftrace && bpftraceProblem === undefined) {
    return {
      check: "bpftrace",
      status: "ok",
      message: `bpftrace ${report.bpftrace.version} at ${report.bpftrace.path}`,
    };
  }
  return {
    check: "bpftrace",
    status: "missing",
    message: `${
      (bpftraceProblem ?? "bpftrace is not usable").replace(/: install it with .*$/, "")
    } (needed by wrapp trace, memprof and record, and [trace])`,
    fix: report.bpftrace
      ? `install bpftrace ${minimum} or newer (Ubuntu 22.04 / JetPack 6: apt-get install bpftrace), or set $WRAPP_BPFTRACE to one`
      : `apt-get install bpftrace (${minimum} or newer), or set $WRAPP_BPFTRACE to its path`,
  };
}

function _tracefsResult(report: PreflightReport): CheckResult {
  if (report.tracefs !== undefined) {
    return { check: "tracefs", status: "ok", message: `tracefs at ${report.tracefs}` };
  }
  const problem = report.problems.find((p) => p.startsWith("tracefs")) ??
    "tracefs is not mounted";
  return {
    check: "tracefs",
    // wrapp mounts it by itself when it runs as root; only a non-root run cannot.
    status: report.root ? "warning" : "missing",
    message: report.root
      ? `${
        problem.replace(/: mount it with .*$/, "")
      }; wrapp mounts it when it starts bpftrace (doctor does not)`
      : problem,
    fix: "mount -t tracefs nodev /sys/kernel/tracing (or add it to /etc/fstab)",
  };
}

function _tracepointsResult(
  report: PreflightReport,
  tracepoints: Readonly<Record<string, string>>,
): CheckResult {
  const names = Object.keys(tracepoints);
  if (report.tracefs === undefined || !report.root) {
    return {
      check: "tracepoints",
      status: "warning",
      message: `not checked: ${
        report.root ? "tracefs is not mounted" : "only root can read tracefs"
      } (wrapp uses ${names.join(", ")})`,
      fix: report.root
        ? "mount tracefs, then run wrapp doctor again"
        : "run wrapp doctor with sudo",
    };
  }
  if (report.missingTracepoints.length === 0) {
    return {
      check: "tracepoints",
      status: "ok",
      message: `all ${names.length} present: ${names.join(", ")}`,
    };
  }
  const features = [
    ...new Set(report.missingTracepoints.flatMap((t) => (tracepoints[t] ?? "").split(", "))),
  ].filter((f) => f !== "");
  const syscalls = report.missingTracepoints.some((t) => t.startsWith("raw_syscalls:"));
  return {
    check: "tracepoints",
    status: "missing",
    message: `the kernel has no tracepoint ${report.missingTracepoints.join(", ")}${
      features.length > 0 ? `, so ${features.join(", ")} will not work` : ""
    }`,
    fix: syscalls
      ? "a kernel built with CONFIG_FTRACE_SYSCALLS=y (and CONFIG_TRACEPOINTS=y)"
      : "a kernel built with CONFIG_TRACEPOINTS=y and CONFIG_FTRACE=y",
  };
}

function _btfResult(report: PreflightReport): CheckResult {
  return {
    check: "btf",
    status: "ok",
    message: report.btf
      ? "the kernel has BTF (/sys/kernel/btf/vmlinux); wrapp does not need it"
      : "the kernel has no BTF (/sys/kernel/btf/vmlinux); fine: wrapp's programs use tracepoints only",
  };
}
