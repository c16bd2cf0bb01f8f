import assert from "node:assert/strict";
import { frame, report } from "../../../core/events/_test_crash_report.ts";
import {
  captureCrash,
  crashEvent,
  type CrashFrame,
  formatCrashSummary,
  isCrashSignal,
  programImage,
} from "./crash_report.ts";

const ABORT_FRAMES: CrashFrame[] = [
  frame(0, "__pthread_kill_implementation", { file: "./nptl/pthread_kill.c", line: 44 }),
  frame(1, "__pthread_kill_internal", { file: "./nptl/pthread_kill.c", line: 78 }),
  frame(2, "__GI_raise", { args: "sig=sig@entry=6", file: "../sysdeps/posix/raise.c", line: 26 }),
  frame(3, "__GI_abort", { file: "./stdlib/abort.c", line: 79 }),
  frame(4, "fail_now", { file: "abrt.c", line: 5 }),
  frame(5, "main", { file: "abrt.c", line: 6 }),
];

Deno.test("formatCrashSummary() names the signal, the call stack and the core on one line", () => {
  assert.equal(
    formatCrashSummary(report()),
    "wrapp: svc (pid 4242) crashed with SIGSEGV at crash_here() ← level_one() ← main(); core /var/crash/core.svc.4242, report in the crash stream",
  );
});

Deno.test("formatCrashSummary() skips C library frames and names the call into it", () => {
  const line = formatCrashSummary(
    report({
      signal: "SIGABRT",
      threads: [{ number: 1, crashed: true, frames: ABORT_FRAMES }],
    }),
    { where: "report in the trace" },
  );
  assert.equal(
    line,
    "wrapp: svc (pid 4242) crashed with SIGABRT in abort() at fail_now() ← main(); core /var/crash/core.svc.4242, report in the trace",
  );
});

Deno.test("formatCrashSummary() skips C library frames without debug info too", () => {
  const lib = "/lib/x86_64-linux-gnu/libc.so.6";
  const frames = [
    frame(0, "??", { library: lib }),
    frame(1, "raise", { library: lib }),
    frame(2, "abort", { library: lib }),
    frame(3, "fail_now", { file: "abrt.c", line: 5 }),
    frame(4, "main", { file: "abrt.c", line: 6 }),
  ];
  assert.match(
    formatCrashSummary(
      report({ signal: "SIGABRT", threads: [{ number: 1, crashed: true, frames }] }),
    ),
    /crashed with SIGABRT in abort\(\) at fail_now\(\) ← main\(\);/,
  );
});

Deno.test("formatCrashSummary() gives the reason when there is no core", () => {
  const line = formatCrashSummary(report({
    core: undefined,
    source: "none",
    threads: [],
    noCoreReason:
      'no core: core_pattern "core" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true',
  }));
  assert.equal(
    line,
    'wrapp: svc (pid 4242) crashed with SIGSEGV; no core: core_pattern "core" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true, report in the crash stream',
  );
  assert.ok(!line.includes("\n"));
});

Deno.test("formatCrashSummary() shows addresses for unknown functions and eBPF stacks", () => {
  const line = formatCrashSummary(report({
    core: undefined,
    noCoreReason: "no core: x",
    source: "ebpf",
    threads: [{ number: 1, crashed: true, frames: [frame(0, "??"), frame(1, "main")] }],
  }));
  assert.match(line, /crashed with SIGSEGV at 0x1000 ← main\(\) \(stack from eBPF\); no core: x,/);
});

Deno.test("crashEvent() carries the summary and the report as plain data", () => {
  const event = crashEvent(report());
  assert.equal(event.kind, "crash");
  assert.equal(event.time, 1_700_000_000_000);
  assert.equal(event.summary, formatCrashSummary(report()));
  assert.deepEqual(event.report, report());
  // Plain data: survives the disk spool's JSON round trip.
  assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
});

Deno.test("programImage() follows #! lines to the interpreter", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-image-" });
  try {
    await Deno.writeTextFile(`${dir}/a.sh`, "#!/bin/sh -e\necho\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/b.sh`, "#!/usr/bin/env -S bash -x\necho\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/c`, "\x7fELF", { mode: 0o755 });
    assert.equal(await programImage(`${dir}/a.sh`), await Deno.realPath("/bin/sh"));
    assert.equal(
      await programImage(`${dir}/b.sh`, { PATH: "/usr/bin:/bin" }),
      await Deno.realPath("/usr/bin/bash").catch(() => Deno.realPath("/bin/bash")),
    );
    assert.equal(await programImage(`${dir}/c`), await Deno.realPath(`${dir}/c`));
    assert.equal(await programImage(`${dir}/missing`), `${dir}/missing`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureCrash() reports quickly and clearly when cores are off", async () => {
  const started = performance.now();
  const result = await captureCrash({
    pid: 99999,
    executable: "/bin/true",
    cwd: "/tmp",
    signal: "SIGSEGV",
    crashTime: Date.now(),
    coreLimit: 0,
    service: "svc",
  }, { core: { settings: { pattern: "core", usesPid: false } } });
  assert.ok(performance.now() - started < 1000);
  assert.equal(result.source, "none");
  assert.deepEqual(result.threads, []);
  assert.equal(result.shellExitCode, 139);
  assert.match(result.noCoreReason ?? "", /RLIMIT_CORE of the service was 0/);
  assert.match(result.buildId ?? "", /^[0-9a-f]{40}$/, "Debian builds /bin/true with a build-id");
});

Deno.test("captureCrash() runs gdb on the core it finds and uses a fallback without one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-capture-" });
  try {
    await Deno.writeFile(`${dir}/core.true.77`, new Uint8Array(4096));
    const gdb = `${dir}/gdb`;
    await Deno.writeTextFile(
      gdb,
      `#!/bin/sh
echo "$@" > ${dir}/gdb-args
printf '%s\\n' 'Program terminated with signal SIGSEGV, Segmentation fault.' '@@wrapp:threads@@' \\
  '[Current thread is 1 (LWP 77)]' 'Thread 1 (LWP 77):' '#0  0x1 in boom () at b.c:1' \\
  '#1  0x2 in main () at b.c:2' '@@wrapp:siginfo@@' '$1 = 0x8' '@@wrapp:end@@'
`,
      { mode: 0o755 },
    );
    const info = {
      pid: 77,
      executable: "/bin/true",
      cwd: dir,
      signal: 11,
      crashTime: Date.now(),
      coreLimit: Infinity,
    };
    const settings = { pattern: `${dir}/core.%e.%p`, usesPid: false };
    const result = await captureCrash(info, {
      core: { settings, settleMs: 20 },
      gdb: { gdb },
    });
    assert.equal(result.signal, "SIGSEGV");
    assert.equal(result.service, "true");
    assert.equal(result.source, "core");
    assert.equal(result.core?.path, `${dir}/core.true.77`);
    assert.deepEqual(result.threads[0].frames.map((f) => f.function), ["boom", "main"]);
    assert.equal(result.faultAddress, "0x8");
    assert.match(
      (await Deno.readTextFile(`${dir}/gdb-args`)).trim(),
      /\/true \S+\/core\.true\.77$/,
    );

    const fallback = await captureCrash({ ...info, pid: 78 }, {
      core: { settings, fileGraceMs: 50 },
      fallback: (_info, reason) =>
        Promise.resolve({
          source: "ebpf",
          threads: [{ number: 1, crashed: true, frames: [frame(0, "boom")] }],
          note: `eBPF stack used: ${reason.slice(0, 8)}`,
        }),
    });
    assert.equal(fallback.source, "ebpf");
    assert.equal(fallback.core, undefined);
    assert.match(fallback.noCoreReason ?? "", /^no core: no file matches/);
    assert.deepEqual(fallback.problems, ["eBPF stack used: no core:"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureCrash() says what gdb made of a file that is not a core", async () => {
  const gdbInstalled = await new Deno.Command("gdb", { args: ["--version"], stdout: "null" })
    .output().then((o) => o.code === 0, () => false);
  if (!gdbInstalled) {
    if (Deno.env.get("CI") === "true") throw new Error("gdb is needed (apt-get install gdb)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "wrapp-capture-" });
  try {
    await Deno.writeFile(`${dir}/core.true.79`, new Uint8Array(8192));
    const result = await captureCrash({
      pid: 79,
      executable: "/bin/true",
      cwd: dir,
      signal: "SIGBUS",
      crashTime: Date.now(),
      coreLimit: Infinity,
    }, { core: { settings: { pattern: "core.%e.%p", usesPid: false }, settleMs: 20 } });
    assert.equal(result.core?.path, `${dir}/core.true.79`);
    assert.equal(result.source, "none");
    assert.match(result.problems.join("\n"), /gdb printed no backtrace: .*not a core dump/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isCrashSignal() is true for the signals that dump core", () => {
  for (const signal of ["SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGQUIT", "SIGTRAP"]) {
    assert.equal(isCrashSignal(signal), true, signal);
  }
  for (const signal of ["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE", undefined]) {
    assert.equal(isCrashSignal(signal), false, String(signal));
  }
});
