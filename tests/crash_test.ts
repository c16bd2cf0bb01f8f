/**
 * Crash reports from real crashes: small C programs compiled with gcc crash under
 * `prlimit`, the kernel writes their cores where the test points core_pattern, and
 * captureCrash() runs the real gdb on them.
 *
 * These tests change /proc/sys/kernel/core_pattern (restored afterwards), so they need
 * root: under CI they fail when not root; elsewhere they are skipped.
 */

import assert from "node:assert/strict";
import { captureCrash, formatCrashSummary } from "../lib/features/run/crash/crash_report.ts";
import { coreLimitPrefix } from "../lib/features/run/crash/core_limit.ts";
import { EbpfCrashWatcher } from "../lib/features/run/crash/ebpf_backtrace.ts";
import { spawnStopped } from "../lib/pipeline/sources/spawn_stopped.ts";
import { compileC, readLatestTrace, runWrapp, tempDir } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";
const ignore = !isRoot && !CI;

const SEGV_C = `#include <stdio.h>
__attribute__((noinline)) void crash_here(int *p) { *p = 42; }
__attribute__((noinline)) void level_one(int *p) { crash_here(p); }
int main(void) { puts("about to crash"); fflush(stdout); level_one(NULL); return 0; }
`;

/** SEGV_C after half a second: the eBPF watcher reads the maps of a running process. */
const SLOW_SEGV_C = `#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) void crash_here(int *p) { *p = 42; }
__attribute__((noinline)) void level_one(int *p) { crash_here(p); }
int main(void) { usleep(500000); puts("about to crash"); fflush(stdout); level_one(NULL); return 0; }
`;

const ABORT_C = `#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *waiter(void *arg) { (void)arg; for (;;) pause(); return NULL; }
__attribute__((noinline)) void fail_now(void) { abort(); }
int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, waiter, NULL);
  usleep(20000);
  fail_now();
  return 0;
}
`;

const KERNEL = "/proc/sys/kernel";

/** Run `fn` with core_pattern and core_uses_pid set, and always put the old values back. */
async function withCorePattern<T>(
  pattern: string,
  usesPid: boolean,
  fn: () => Promise<T>,
): Promise<T> {
  const oldPattern = await Deno.readTextFile(`${KERNEL}/core_pattern`);
  const oldUsesPid = await Deno.readTextFile(`${KERNEL}/core_uses_pid`);
  const restore = () => {
    Deno.writeTextFileSync(`${KERNEL}/core_pattern`, oldPattern);
    Deno.writeTextFileSync(`${KERNEL}/core_uses_pid`, oldUsesPid);
  };
  // Also on an uncaught error that ends the test process.
  globalThis.addEventListener("unload", restore);
  try {
    await Deno.writeTextFile(`${KERNEL}/core_pattern`, pattern);
    await Deno.writeTextFile(`${KERNEL}/core_uses_pid`, usesPid ? "1" : "0");
    return await fn();
  } finally {
    restore();
    globalThis.removeEventListener("unload", restore);
  }
}

async function run(program: string, args: string[], cwd?: string) {
  const output = await new Deno.Command(program, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Start `exe` in `cwd` behind `prefix`, wait for it to die, and describe the crash. */
async function crash(exe: string, cwd: string, prefix: string[], coreLimit: number) {
  const [program, ...args] = [...prefix, exe];
  const startTime = Date.now();
  const child = new Deno.Command(program, { args, cwd, stdout: "null", stderr: "null" }).spawn();
  const status = await child.status;
  assert.ok(status.signal, `expected a signal, got exit code ${status.code}`);
  return {
    pid: child.pid,
    uid: 0,
    gid: 0,
    executable: exe,
    cwd,
    signal: status.signal,
    startTime,
    crashTime: Date.now(),
    coreLimit,
    service: "svc",
  };
}

/** The build-id as `readelf -n` prints it. */
async function readelfBuildId(path: string): Promise<string | undefined> {
  return /Build ID: ([0-9a-f]+)/.exec((await run("readelf", ["-n", path])).stdout)?.[1];
}

function prerequisites() {
  assert.equal(Deno.uid(), 0, "these tests set core_pattern and need root (CI runs as root)");
}

Deno.test({
  name: "a segfault two calls deep yields a report naming every function, with the build-id",
  ignore,
  fn: async () => {
    prerequisites();
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const plan = await coreLimitPrefix();
    const { info, report } = await withCorePattern(`${dir.path}/core.%e.%p.%t`, false, async () => {
      const info = await crash(exe, dir.path, plan.prefix, plan.limit.soft);
      return { info, report: await captureCrash(info) };
    });
    assert.equal(report.signal, "SIGSEGV");
    assert.equal(report.shellExitCode, 139);
    assert.equal(report.source, "core", report.noCoreReason ?? report.problems.join("; "));
    assert.match(report.core?.path ?? "", new RegExp(`/core\\.segv\\.${info.pid}\\.\\d+$`));
    assert.equal(report.buildId, await readelfBuildId(exe));
    const [crashed] = report.threads;
    assert.equal(crashed.crashed, true);
    assert.deepEqual(crashed.frames.map((f) => f.function), ["crash_here", "level_one", "main"]);
    assert.deepEqual(crashed.frames.map((f) => f.line), [2, 3, 4]);
    assert.equal(crashed.frames[0].file, `${dir.path}/segv.c`);
    assert.equal(report.faultAddress, "0x0");
    assert.match(report.instruction ?? "", /crash_here\+\d+>/);
    assert.match(report.registers ?? "", /^(rip|pc)\s+0x/m);
    assert.match(report.gdbText ?? "", /--- backtrace of every thread ---/);
    assert.equal(
      formatCrashSummary(report),
      `wrapp: svc (pid ${info.pid}) crashed with SIGSEGV at crash_here() ← level_one() ← main(); core ${report.core?.path}, report in the crash stream`,
    );
  },
});

Deno.test({
  name: "an abort() yields SIGABRT with the abort and raise frames and every thread",
  ignore,
  fn: async () => {
    prerequisites();
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "abrt", ABORT_C);
    const plan = await coreLimitPrefix();
    const { info, report } = await withCorePattern(`${dir.path}/core.%e.%p`, false, async () => {
      const info = await crash(exe, dir.path, plan.prefix, plan.limit.soft);
      return { info, report: await captureCrash(info) };
    });
    assert.equal(report.signal, "SIGABRT");
    assert.equal(report.shellExitCode, 134);
    assert.equal(report.core?.path, `${dir.path}/core.abrt.${info.pid}`);
    assert.equal(report.threads.length, 2, "the main thread and the waiter");
    const names = report.threads[0].frames.map((f) => f.function);
    assert.ok(names.some((n) => /abort/.test(n)), names.join(", "));
    assert.ok(names.some((n) => /raise|pthread_kill/.test(n)), names.join(", "));
    assert.deepEqual(names.slice(-2), ["fail_now", "main"]);
    assert.ok(
      report.threads[1].frames.some((f) => f.function === "waiter"),
      "the other thread's stack is there too",
    );
    assert.equal(report.faultAddress, undefined, "no fault address for SIGABRT");
    assert.match(
      formatCrashSummary(report),
      /crashed with SIGABRT in abort\(\) at fail_now\(\) ← main\(\);/,
    );
  },
});

Deno.test({
  name: "a relative core_pattern is resolved against the crashed program's working directory",
  ignore,
  fn: async () => {
    prerequisites();
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const work = `${dir.path}/work`;
    await Deno.mkdir(work);
    const plan = await coreLimitPrefix();
    const { info, report } = await withCorePattern("core.%p", true, async () => {
      const info = await crash(exe, work, plan.prefix, plan.limit.soft);
      return { info, report: await captureCrash(info) };
    });
    assert.equal(report.core?.path, `${work}/core.${info.pid}`, report.noCoreReason);
    assert.equal(report.threads[0].frames[0].function, "crash_here");
  },
});

Deno.test({
  name: "with RLIMIT_CORE 0 the report says why there is no core, without waiting",
  ignore,
  fn: async () => {
    prerequisites();
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const pattern = `${dir.path}/core.%e.%p.%t`;
    const { report, captureMs } = await withCorePattern(pattern, false, async () => {
      const info = await crash(exe, dir.path, ["prlimit", "--core=0", "--"], 0);
      const started = performance.now();
      const report = await captureCrash(info, { core: { timeoutMs: 10_000 } });
      return { report, captureMs: performance.now() - started };
    });
    assert.ok(captureMs < 2000, `no waiting for a core that cannot come (${captureMs} ms)`);
    assert.equal(report.source, "none");
    assert.deepEqual(report.threads, []);
    assert.equal(report.core, undefined);
    assert.equal(
      report.noCoreReason,
      `no core: core_pattern "${pattern}" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true`,
    );
    assert.deepEqual([...Deno.readDirSync(dir.path)].filter((e) => e.name.startsWith("core")), []);
    assert.equal(report.buildId, await readelfBuildId(exe));
  },
});

Deno.test({
  name: "wrapp run reports a segfault to stderr, the trace and the Redis crash stream",
  ignore,
  async fn() {
    assert.ok(isRoot, "this test needs root to set core_pattern (CI runs as root)");
    await using dir = await tempDir();
    await using redis = await startRedis();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const config = `${dir.path}/svc.toml`;
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${exe}"
stream_name = "segv"
[output]
echo = false
[crash]
core_dumps = true
[local]
enabled = true
dir = "${dir.path}/traces"
[redis]
port = ${redis.port}
spool_dir = "${dir.path}/spool"
`,
    );
    const result = await withCorePattern(
      `${dir.path}/core.%e.%p.%t`,
      false,
      () => runWrapp(["run", config]),
    );
    assert.equal(result.code, 139, result.stderr);
    assert.match(
      result.stderr,
      /^wrapp: segv \(pid \d+\) crashed with SIGSEGV at crash_here\(\) ← level_one\(\) ← main\(\); core \S+core\.segv\.\d+\.\d+/m,
    );
    const crash = (await readLatestTrace(`${dir.path}/traces`)).find((e) => e.cat === "crash");
    assert.ok(crash, "a crash instant in the trace");
    assert.equal(crash.name, "SIGSEGV in crash_here()");
    assert.match(String(crash.args?.backtrace), /level_one/);
    const [[, fields]] = await (await redis.client(1)).xrange("logs:app:segv:crash", "-", "+");
    const entry = Object.fromEntries(
      fields.flatMap((_, i) => i % 2 ? [] : [[fields[i], fields[i + 1]]]),
    );
    assert.match(entry.message, /crashed with SIGSEGV at crash_here\(\)/);
    assert.equal(entry.signal, "SIGSEGV");
    assert.match(entry.backtrace, /crash_here[\s\S]*level_one[\s\S]*main/);
    const readelf = await run("readelf", ["-n", exe]);
    assert.ok(readelf.stdout.includes(entry.build_id), `build-id ${entry.build_id}`);
  },
});

Deno.test({
  name: "a crash with cores disabled — the eBPF backtrace still names the functions (root)",
  ignore,
  fn: async () => {
    prerequisites();
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SLOW_SEGV_C);
    const pattern = `${dir.path}/core.%e.%p.%t`;
    const report = await withCorePattern(pattern, false, async () => {
      // Stopped before exec, as the supervisor's child is when the watcher starts: the
      // watcher must follow prlimit's exec into the program and read the new maps.
      const startTime = Date.now();
      const child = await spawnStopped("prlimit", ["--core=0", "--", exe], { cwd: dir.path });
      const watcher = await EbpfCrashWatcher.start({ pid: child.pid });
      try {
        assert.equal(watcher.unavailable, undefined, watcher.unavailable);
        child.resume();
        const status = await child.status;
        assert.equal(status.signal, "SIGSEGV");
        return await captureCrash({
          pid: child.pid,
          uid: 0,
          gid: 0,
          executable: exe,
          cwd: dir.path,
          signal: "SIGSEGV",
          startTime,
          crashTime: Date.now(),
          coreLimit: 0,
          service: "svc",
        }, { fallback: watcher.fallback() });
      } finally {
        await watcher.stop();
      }
    });
    assert.equal(report.core, undefined);
    assert.match(report.noCoreReason ?? "", /RLIMIT_CORE of the service was 0/);
    assert.equal(report.source, "ebpf", report.problems.join("\n"));
    assert.equal(report.threads.length, 1);
    const [thread] = report.threads;
    assert.equal(thread.crashed, true);
    assert.equal(thread.lwp, report.pid);
    const names = thread.frames.map((f) => f.function);
    assert.deepEqual(names.slice(0, 3), ["crash_here", "level_one", "main"], names.join(" "));
    assert.equal(thread.frames[0].library, exe);
    assert.match(formatCrashSummary(report), /crash_here\(\) ← level_one\(\) ← main\(\)/);
  },
});

Deno.test({
  name: "wrapp run with cores disabled still reports the crash with an eBPF backtrace",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "slow-segv", SLOW_SEGV_C);
    const config = `${dir.path}/svc.toml`;
    // wrapp holds the service until the watcher runs; the pause, sleep's fork and exec,
    // then the execs of prlimit and the program are followed.
    await Deno.writeTextFile(
      `${dir.path}/svc.sh`,
      `#!/bin/sh\nsleep 2\nexec prlimit --core=0 -- ${exe}\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${dir.path}/svc.sh"
stream_name = "nocore"
[output]
echo = false
[crash]
core_timeout = "1s"
[local]
dir = "${dir.path}/traces"
`,
    );
    const result = await runWrapp(["run", config]);
    assert.equal(result.code, 139, result.stderr);
    assert.match(
      result.stderr,
      /^wrapp: nocore \(pid \d+\) crashed with SIGSEGV at crash_here\(\) ← level_one\(\) ← main\(\)/m,
    );
    const crash = (await readLatestTrace(`${dir.path}/traces`)).find((e) => e.cat === "crash");
    assert.equal(crash?.args?.source, "ebpf");
    assert.match(String(crash?.args?.backtrace), /crash_here[\s\S]*level_one[\s\S]*main/);
  },
});

Deno.test({
  name: "a service that crashes right after exec has an eBPF backtrace, at every restart",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const config = `${dir.path}/svc.toml`;
    // No pause anywhere: the program crashes a few instructions after its exec, so its
    // maps can only be read if wrapp holds it at the exec.
    await Deno.writeTextFile(
      `${dir.path}/svc.sh`,
      `#!/bin/sh\nexec prlimit --core=0 -- ${exe}\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${dir.path}/svc.sh"
stream_name = "early"
[output]
echo = false
[restart]
policy = "on-failure"
delay = "100ms"
max_restarts = 1
[crash]
core_timeout = "1s"
[local]
dir = "${dir.path}/traces"
`,
    );
    const result = await runWrapp(["run", config]);
    assert.equal(result.code, 139, result.stderr);
    const summaries = result.stderr.match(
      /^wrapp: early \(pid \d+\) crashed with SIGSEGV at crash_here\(\) ← level_one\(\) ← main\(\)/gm,
    );
    assert.equal(summaries?.length, 2, result.stderr);
    const crashes = (await readLatestTrace(`${dir.path}/traces`)).filter((e) => e.cat === "crash");
    assert.deepEqual(crashes.map((e) => e.args?.source), ["ebpf", "ebpf"]);
  },
});
