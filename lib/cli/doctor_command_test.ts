import assert from "node:assert/strict";
import type { PreflightReport } from "../bpf/preflight.ts";
import {
  bpfResults,
  type CheckResult,
  coreDumpResult,
  DOCTOR_HELP,
  doctorCommand,
  exitCodeOf,
  formatResults,
  programResult,
  runChecks,
  TRACEPOINTS,
} from "./doctor_command.ts";
import { UsageError } from "../errors.ts";

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
    ]
  ) assert.ok(name in TRACEPOINTS, name);
});

Deno.test("coreDumpResult(): discarded cores are missing, with a sysctl", () => {
  const result = coreDumpResult({
    ok: false,
    message:
      'core_pattern ""; an empty core_pattern: every core is discarded; set kernel.core_pattern, e.g. /var/crash/core.%e.%p.%t',
  });
  assert.equal(result.status, "missing");
  assert.match(result.fix!, /^sysctl -w kernel\.core_pattern=/);
});

Deno.test("coreDumpResult(): a missing folder says mkdir", () => {
  const result = coreDumpResult({
    ok: false,
    message: 'core_pattern "/var/crash/core.%p"; the folder "/var/crash" does not exist; create it',
  });
  assert.equal(result.status, "missing");
  assert.equal(result.fix, "mkdir -p -m 1777 /var/crash");
});

Deno.test("coreDumpResult(): RLIMIT_CORE 0 without [crash] core_dumps is a warning", () => {
  const result = coreDumpResult({
    ok: true,
    message:
      'core_pattern "core"; cores are files in the working directory; RLIMIT_CORE of wrapp is 0 (hard unlimited), so services write no core unless [crash] core_dumps = true',
  });
  assert.equal(result.status, "warning");
  assert.match(result.fix!, /\[crash\] core_dumps = true/);
  assert.equal(coreDumpResult({ ok: true, message: "fine" }).status, "ok");
});

Deno.test("programResult(): found, missing, or a warning when optional", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/gdb`, "#!/bin/sh\n", { mode: 0o755 });
    const spec = {
      check: "gdb",
      program: "gdb",
      feature: "backtraces",
      fix: "apt-get install gdb",
    };
    assert.deepEqual(await programResult({ ...spec, path: dir }), {
      check: "gdb",
      status: "ok",
      message: `${dir}/gdb`,
    });
    const missing = await programResult({ ...spec, path: `${dir}/none` });
    assert.equal(missing.status, "missing");
    assert.equal(missing.message, '"gdb" is not in PATH (needed for backtraces)');
    assert.equal(missing.fix, "apt-get install gdb");
    const optional = await programResult({ ...spec, path: `${dir}/none`, whenMissing: "warning" });
    assert.equal(optional.status, "warning");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runChecks() keeps the order, runs concurrently, and reports a hung or failing check", async () => {
  const started = Date.now();
  let release = () => {};
  const hung = new Promise<CheckResult[]>((resolve) => {
    release = () => resolve([]);
  });
  const results = await runChecks([
    { names: ["slow"], run: () => hung },
    {
      names: ["a", "b"],
      run: () =>
        Promise.resolve([
          { check: "a", status: "ok", message: "A" },
          { check: "b", status: "missing", message: "B", fix: "fix B" },
        ]),
    },
    { names: ["boom"], run: () => Promise.reject(new Error("kaput")) },
  ], 100);
  release();
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(results.map((r) => [r.check, r.status]), [
    ["slow", "warning"],
    ["a", "ok"],
    ["b", "missing"],
    ["boom", "warning"],
  ]);
  assert.match(results[0].message, /no answer within 100 ms/);
  assert.match(results[3].message, /kaput/);
});

Deno.test("formatResults(): marks, aligned names, fix lines, and the count line", () => {
  const text = formatResults([
    { check: "root", status: "ok", message: "running as root" },
    {
      check: "bpftrace",
      status: "missing",
      message: "not installed",
      fix: "apt-get install bpftrace",
    },
    {
      check: "c++filt",
      status: "warning",
      message: "not in PATH",
      fix: "apt-get install binutils",
    },
  ]);
  assert.equal(
    text,
    [
      "✓ root      running as root",
      "✗ bpftrace  not installed",
      "            → apt-get install bpftrace",
      "! c++filt   not in PATH",
      "            → apt-get install binutils",
      "1 problem, 1 warning",
    ].join("\n"),
  );
  assert.equal(formatResults([]), "0 problems, 0 warnings");
});

Deno.test("exitCodeOf(): 1 only when something is missing", () => {
  assert.equal(exitCodeOf([{ check: "x", status: "warning", message: "" }]), 0);
  assert.equal(exitCodeOf([{ check: "x", status: "missing", message: "" }]), 1);
});

Deno.test("doctorCommand(): --help, unknown options and arguments", async () => {
  const printed: string[] = [];
  const context = { print: (t: string) => printed.push(t), debug: () => {} };
  assert.equal(await doctorCommand(["--help"], context), 0);
  assert.equal(printed[0], DOCTOR_HELP);
  await assert.rejects(
    () => doctorCommand(["--jsn"], context),
    (e) => e instanceof UsageError && /did you mean "--json"/.test(e.message),
  );
  await assert.rejects(() => doctorCommand(["svc.toml"], context), UsageError);
  await assert.rejects(
    () => doctorCommand(["--redis", "http://user:hunter2@x"], context),
    (e) => e instanceof UsageError && !e.message.includes("hunter2"),
  );
});
