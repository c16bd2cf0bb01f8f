import assert from "node:assert/strict";
import { formatBytes } from "../core/config/parse_size.ts";
import type { PreflightReport } from "../pipeline/bpf/preflight.ts";
import {
  attachResult,
  bpfResults,
  type CheckResult,
  coreDumpResult,
  crashWatcherResult,
  debugfsResult,
  diskResult,
  DOCTOR_HELP,
  doctorCommand,
  exitCodeOf,
  formatResults,
  gdbserverResult,
  kernelResult,
  limitsResult,
  neededChecks,
  programResult,
  runChecks,
  spoolTarget,
  TRACEPOINTS,
} from "./doctor_command.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { UsageError } from "../core/errors.ts";
import { ptraceScopeProblem } from "../features/run/crash/doctor_checks.ts";

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
      "  CHECK     RESULT",
      "✓ root      running as root",
      "✗ bpftrace  not installed",
      "            → apt-get install bpftrace",
      "! c++filt   not in PATH",
      "            → apt-get install binutils",
      "1 problem, 1 warning",
    ].join("\n"),
  );
  assert.equal(formatResults([]), "  CHECK  RESULT\n0 problems, 0 warnings");
});

Deno.test("formatResults(): what the config does not use is marked -, and counted apart", () => {
  const text = formatResults([
    { check: "bpftrace", status: "missing", needed: false, message: "absent", fix: "install" },
    { check: "gdb", status: "missing", needed: true, message: "absent", fix: "install it" },
  ], { configName: "robot.toml" });
  assert.equal(
    text,
    [
      "  CHECK     RESULT",
      "- bpftrace  absent",
      "            → install",
      "✗ gdb       absent",
      "            → install it",
      "1 problem, 0 warnings; 1 missing but not used by robot.toml",
    ].join("\n"),
  );
});

Deno.test("formatResults(): wraps long results to the terminal's width under their column", () => {
  const text = formatResults([{
    check: "disk",
    status: "warning",
    message: "only 12 MiB free on / for the spool (/var/lib/wrapp/robot/spool, up to 256 MiB)",
    fix: "free space on /, or lower [redis] spool_max_bytes / move spool_dir",
  }], { width: 50 });
  const lines = text.split("\n");
  assert.ok(lines.every((line) => line.length <= 50), text);
  assert.equal(lines[1], "! disk   only 12 MiB free on / for the spool");
  assert.equal(lines[2], "         (/var/lib/wrapp/robot/spool, up to 256");
  assert.match(lines[4], /^ {9}→ free space on \/, or lower \[redis\]$/);
  assert.match(lines[5], /^ {11}spool_max_bytes/);
});

Deno.test("exitCodeOf(): 1 only when something needed is missing", () => {
  assert.equal(exitCodeOf([{ check: "x", status: "warning", message: "" }]), 0);
  assert.equal(exitCodeOf([{ check: "x", status: "missing", message: "" }]), 1);
  assert.equal(exitCodeOf([{ check: "x", status: "missing", needed: false, message: "" }]), 0);
});

Deno.test("kernelResult(): the release, and too old for eBPF below 4.9", () => {
  assert.deepEqual(kernelResult("6.8.0-45-generic", "x86_64"), {
    check: "kernel",
    status: "ok",
    message: "Linux 6.8.0-45-generic (x86_64)",
  });
  assert.equal(kernelResult("5.15.136-tegra", "aarch64").status, "ok");
  const old = kernelResult("4.4.38-tegra", "aarch64");
  assert.equal(old.status, "missing");
  assert.match(old.message, /too old for eBPF tracing: bpftrace needs 4\.9 or newer/);
  assert.equal(kernelResult("weird", "x86_64").status, "warning");
});

Deno.test("debugfsResult(): mounted, not needed beside tracefs, or a warning without either", () => {
  const debugfs = { device: "debugfs", dir: "/sys/kernel/debug", type: "debugfs" };
  assert.equal(debugfsResult([debugfs], undefined).message, "debugfs at /sys/kernel/debug");
  const unneeded = debugfsResult([], "/sys/kernel/tracing");
  assert.equal(unneeded.status, "ok");
  assert.match(unneeded.message, /not needed: tracefs is at \/sys\/kernel\/tracing/);
  const neither = debugfsResult([], undefined);
  assert.equal(neither.status, "warning");
  assert.equal(neither.fix, "mount -t debugfs nodev /sys/kernel/debug");
});

Deno.test("diskResult(): enough, less than the spool may take, or nearly full", () => {
  const target = { dir: "/var/lib/wrapp/robot/spool", what: "the spool", limitBytes: 256 << 20 };
  const space = (availableBytes: number) => ({
    checked: "/var/lib/wrapp",
    mount: "/",
    availableBytes,
    totalBytes: 64 * 2 ** 30,
  });
  assert.deepEqual(diskResult(target, space(10 * 2 ** 30)), {
    check: "disk",
    status: "ok",
    message: "10.0 GiB free on / for the spool (/var/lib/wrapp/robot/spool, up to 256 MiB)",
  });
  const low = diskResult(target, space(100 << 20));
  assert.equal(low.status, "warning");
  assert.match(low.message, /^only 100 MiB free on \/ .*the disk fills before the limit/);
  assert.match(low.fix!, /spool_max_bytes/);
  assert.equal(diskResult(target, space(1 << 20)).status, "missing");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
});

Deno.test("spoolTarget(): the config's spool, its trace folder, or the state folder", () => {
  assert.deepEqual(spoolTarget(undefined, { uid: 0 }), {
    dir: "/var/lib/wrapp",
    what: "spools and traces",
    limitBytes: 256 << 20,
  });
  assert.equal(
    spoolTarget(undefined, { uid: 1000, env: (n) => n === "HOME" ? "/home/u" : undefined })?.dir,
    "/home/u/.local/state/wrapp",
  );
  assert.equal(spoolTarget(undefined, { uid: 1000, env: () => undefined }), undefined);
});

Deno.test("neededChecks(): everything without a config; with one, what it uses", async () => {
  assert.equal(neededChecks(undefined)("bpftrace"), true);
  const dir = await Deno.makeTempDir();
  try {
    const plain = `${dir}/plain.toml`;
    await Deno.writeTextFile(plain, `[app]\nexecutable = "/bin/true"\n`);
    const needs = neededChecks(await loadConfig(plain));
    for (
      const check of ["root", "kernel", "bpftrace", "tracefs", "tracepoints", "setpriv", "redis"]
    ) {
      assert.equal(needs(check), false, check);
    }
    for (const check of ["gdb", "core dumps", "disk"]) assert.equal(needs(check), true, check);
    const traced = `${dir}/traced.toml`;
    await Deno.writeTextFile(
      traced,
      `[app]\nexecutable = "/bin/true"\nuser = "root"\n[trace]\n[redis]\n[crash]\ncore_dumps = true\n`,
    );
    const all = neededChecks(await loadConfig(traced));
    for (const check of ["root", "kernel", "bpftrace", "tracefs", "setpriv", "prlimit", "redis"]) {
      assert.equal(all(check), true, check);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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

Deno.test("gdbserverResult(): found but not allowed to attach is a problem, with the fix", () => {
  const found: CheckResult = { check: "gdbserver", status: "ok", message: "/usr/bin/gdbserver" };
  assert.deepEqual(gdbserverResult(found), found);
  assert.deepEqual(
    gdbserverResult(
      found,
      "kernel.yama.ptrace_scope is 1: only root may attach gdbserver to the service",
    ),
    {
      check: "gdbserver",
      status: "missing",
      message:
        "/usr/bin/gdbserver, but kernel.yama.ptrace_scope is 1: only root may attach gdbserver to the service",
      fix: "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0",
    },
  );
  const absent: CheckResult = {
    check: "gdbserver",
    status: "missing",
    message: '"gdbserver" is not in PATH',
    fix: "apt-get install gdbserver",
  };
  assert.deepEqual(gdbserverResult(absent, "anything"), absent);
});

Deno.test("neededChecks(): gdbserver counts only for a config with [debug] enabled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plain = `${dir}/plain.toml`;
    await Deno.writeTextFile(plain, `[app]\nexecutable = "/bin/true"\n[debug]\nenabled = false\n`);
    assert.equal(neededChecks(await loadConfig(plain))("gdbserver"), false);
    const debugged = `${dir}/debugged.toml`;
    await Deno.writeTextFile(
      debugged,
      `[app]\nexecutable = "/bin/true"\n[debug]\nenabled = true\n`,
    );
    assert.equal(neededChecks(await loadConfig(debugged))("gdbserver"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("crashWatcherResult(): native when its programs load, else bpftrace with the reason", () => {
  assert.deepEqual(crashWatcherResult({ root: true, engine: "auto" }), {
    check: "crash eBPF",
    status: "ok",
    message: "native eBPF programs loaded by wrapp (no bpftrace)",
  });
  const failed = crashWatcherResult({
    root: true,
    engine: "auto",
    nativeFailure: "bpf(BPF_MAP_CREATE) failed: EPERM (operation not permitted)",
  });
  assert.equal(failed.status, "warning");
  assert.equal(
    failed.message,
    "the native programs cannot load: bpf(BPF_MAP_CREATE) failed: EPERM (operation not permitted); bpftrace will be used (about 100 MiB and 1 s more per wrapp)",
  );
  assert.match(failed.fix ?? "", /CAP_BPF/);
  assert.equal(
    crashWatcherResult({ root: true, engine: "native", nativeFailure: "ENOSYS" }).status,
    "missing",
  );
  assert.match(crashWatcherResult({ root: true, engine: "bpftrace" }).message, /^bpftrace, as/);
  assert.equal(crashWatcherResult({ root: false, engine: "auto" }).status, "warning");
});

Deno.test("neededChecks(): [watchdog] needs gdb even with [crash] off", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/watched.toml`;
    await Deno.writeTextFile(
      path,
      `[app]\nexecutable = "/bin/true"\n[crash]\nenabled = false\n[watchdog]\ntimeout = "30s"\nsocket = "${dir}/n.sock"\n`,
    );
    assert.equal(neededChecks(await loadConfig(path))("gdb"), true);
    await Deno.writeTextFile(path, `[app]\nexecutable = "/bin/true"\n[crash]\nenabled = false\n`);
    assert.equal(neededChecks(await loadConfig(path))("gdb"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attachResult(): gdb found but not allowed to attach to the service is a problem", () => {
  const found: CheckResult = { check: "gdb", status: "ok", message: "/usr/bin/gdb" };
  assert.deepEqual(attachResult(found, undefined), found);
  const problem = attachResult(found, ptraceScopeProblem(1, false, "gdb"));
  assert.equal(problem.check, "gdb");
  assert.equal(problem.status, "missing");
  assert.equal(
    problem.message,
    "/usr/bin/gdb, but kernel.yama.ptrace_scope is 1: only root may attach gdb to the service",
  );
  assert.equal(problem.fix, "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0");
});

Deno.test("limitsResult() says how [limits] will be enforced and why", () => {
  const limits = { memoryMaxBytes: 512 * 1024 * 1024, cpuMaxPercent: 50 };
  assert.deepEqual(
    limitsResult({ method: "cgroup", reason: "wrapp is root and cgroup v2 has …" }, limits),
    {
      check: "limits",
      status: "ok",
      message:
        "memory_max 512 MiB, cpu_max 50% in a cgroup of the service's own, because wrapp is root and cgroup v2 has …",
    },
  );
  const rss = limitsResult({
    method: "rss",
    reason: "wrapp is not root (a cgroup of its own needs root)",
    unenforced: "cpu_max needs a cgroup: wrapp is not root (a cgroup of its own needs root)",
  }, limits);
  assert.equal(rss.status, "warning");
  assert.equal(
    rss.message,
    "memory_max: wrapp stops the service when its RSS goes over it, because wrapp is not root (a cgroup of its own needs root); cpu_max needs a cgroup: wrapp is not root (a cgroup of its own needs root)",
  );
  assert.ok(rss.fix);
  const none = limitsResult(
    { method: "none", reason: "x", unenforced: "cpu_max needs a cgroup: x" },
    { cpuMaxPercent: 50 },
  );
  assert.equal(none.message, "cpu_max needs a cgroup: x");
});
