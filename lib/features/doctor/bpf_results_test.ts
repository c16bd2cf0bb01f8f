import assert from "node:assert/strict";
import type { PreflightReport } from "../../pipeline/bpf/preflight.ts";
import { type CheckResult, exitCodeOf } from "./check_result.ts";
import { bpfResults, TRACEPOINTS } from "./bpf_results.ts";

const READY: PreflightReport = {
  root: true,
  bpftrace: { path: "/usr/bin/bpftrace", version: "0.17.0" },
  tracefs: "/sys/kernel/tracing",
  mountedTracefs: false,
  btf: true,
  missingTracepoints: [],
  problems: [],
  needsRoot: false,
};

function byName(results: CheckResult[]): Record<string, CheckResult> {
  return Object.fromEntries(results.map((r) => [r.check, r]));
}

Deno.test("bpfResults() of a ready machine: five ok lines", () => {
  const results = bpfResults(READY);
  assert.deepEqual(results.map((r) => r.check), [
    "root",
    "bpftrace",
    "tracefs",
    "tracepoints",
    "btf",
  ]);
  assert.ok(results.every((r) => r.status === "ok"), JSON.stringify(results));
  assert.match(byName(results).bpftrace.message, /^bpftrace 0\.17\.0 at \/usr\/bin\/bpftrace$/);
});

Deno.test("bpfResults(): not root is missing; tracepoints cannot be checked", () => {
  const results = byName(bpfResults({
    ...READY,
    root: false,
    needsRoot: true,
    problems: ["wrapp is not root (run it with sudo)"],
  }));
  assert.equal(results.root.status, "missing");
  assert.match(results.root.fix!, /sudo/);
  assert.equal(results.tracepoints.status, "warning");
  assert.match(results.tracepoints.message, /only root can read tracefs/);
  assert.equal(results.bpftrace.status, "ok");
});

Deno.test("bpfResults(): absent bpftrace says to apt-get install it", () => {
  const results = byName(bpfResults({
    ...READY,
    bpftrace: undefined,
    problems: [
      'bpftrace is not installed (no "bpftrace" in PATH): install it with "apt-get install bpftrace", or pass --bpftrace PATH',
    ],
  }));
  assert.equal(results.bpftrace.status, "missing");
  assert.match(results.bpftrace.message, /^bpftrace is not installed \(no "bpftrace" in PATH\)/);
  assert.doesNotMatch(results.bpftrace.message, /--bpftrace/);
  assert.match(results.bpftrace.fix!, /apt-get install bpftrace/);
});

Deno.test("bpfResults(): a too old bpftrace is missing, naming the minimum", () => {
  const results = byName(bpfResults({
    ...READY,
    bpftrace: { path: "/usr/bin/bpftrace", version: "0.12.1" },
    problems: ['bpftrace 0.12.1 at "/usr/bin/bpftrace" is too old: wrapp needs 0.14.0 or newer'],
  }));
  assert.equal(results.bpftrace.status, "missing");
  assert.match(results.bpftrace.message, /0\.12\.1 .* too old: wrapp needs 0\.14\.0/);
  assert.match(results.bpftrace.fix!, /0\.14\.0 or newer/);
});

Deno.test("bpfResults(): tracefs unmounted is a warning as root (wrapp mounts it), missing otherwise", () => {
  const asRoot = byName(bpfResults({
    ...READY,
    tracefs: undefined,
    problems: [
      'tracefs is not mounted at /sys/kernel/tracing: mount it with "mount -t tracefs nodev /sys/kernel/tracing"',
    ],
  }));
  assert.equal(asRoot.tracefs.status, "warning");
  assert.match(asRoot.tracefs.message, /wrapp mounts it when it starts bpftrace/);
  assert.match(asRoot.tracefs.fix!, /^mount -t tracefs nodev \/sys\/kernel\/tracing/);
  assert.equal(asRoot.tracepoints.status, "warning");

  const user = byName(bpfResults({
    ...READY,
    root: false,
    tracefs: undefined,
    problems: ["tracefs is not mounted at /sys/kernel/tracing and wrapp is not root"],
  }));
  assert.equal(user.tracefs.status, "missing");
});

Deno.test("bpfResults(): missing tracepoints name the features that lose them", () => {
  const results = byName(bpfResults({
    ...READY,
    missingTracepoints: ["raw_syscalls:sys_enter", "kmem:mm_page_alloc"],
  }));
  assert.equal(results.tracepoints.status, "missing");
  assert.match(results.tracepoints.message, /raw_syscalls:sys_enter, kmem:mm_page_alloc/);
  assert.match(results.tracepoints.message, /wrapp trace/);
  assert.match(results.tracepoints.message, /wrapp memprof/);
  assert.match(results.tracepoints.fix!, /CONFIG_FTRACE_SYSCALLS/);
});

Deno.test("bpfResults(): no BTF is only informational", () => {
  const results = byName(bpfResults({ ...READY, btf: false }));
  assert.equal(results.btf.status, "ok");
  assert.match(results.btf.message, /no BTF/);
  assert.equal(exitCodeOf(Object.values(results)), 0);
});

Deno.test("TRACEPOINTS lists the ones wrapp's programs attach to", () => {
  for (
    const name of [
      "raw_syscalls:sys_enter",
      "raw_syscalls:sys_exit",
      "sched:sched_process_fork",
      "kmem:mm_page_alloc",
      "kmem:mm_page_free",
      "signal:signal_generate",
      "sched:sched_process_exec",
      "task:task_rename",
    ]
  ) assert.ok(name in TRACEPOINTS, name);
});
