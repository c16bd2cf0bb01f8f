/**
 * The native crash watcher's programs in the real kernel: loaded through the bpf()
 * syscall with no bpftrace, they follow a watched process into its children, stop it at
 * exec, record the user stack of a fault, and (hooked on the dynamic loader) say when it
 * maps libraries; every fd goes when it is closed.
 *
 * Needs root (CAP_BPF): under CI it fails when not root; elsewhere it is skipped.
 */

import assert from "node:assert/strict";
import { findLoader } from "../lib/features/run/crash/ebpf_backtrace.ts";
import { NativeFatalSignalSource } from "../lib/features/run/crash/native_fatal_signal.ts";
import { attachUprobe } from "../lib/pipeline/bpf/native/uprobe_attach.ts";
import type { FatalSignalEvent } from "../lib/features/run/crash/fatal_signal_bpf.ts";
import { processState, spawnStopped } from "../lib/pipeline/sources/spawn_stopped.ts";
import { compileC, SEGV_C, tempDir } from "./_helpers.ts";

const isRoot = Deno.uid() === 0;
const ignore = !isRoot && Deno.env.get("CI") !== "true";

/** The fds of this process that belong to eBPF, perf or epoll (what the watcher opens). */
function bpfFds(): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
      if (/bpf|perf_event|eventpoll|eventfd/.test(target)) found.push(target);
    } catch { /* the fd of readDir itself */ }
  }
  return found;
}

function pidOf(event: FatalSignalEvent): number {
  return "pid" in event.line ? event.line.pid : -1;
}

/** Collect the watcher's events; `until` resolves once one matches. */
function collector() {
  const events: FatalSignalEvent[] = [];
  const waiters: Array<[(e: FatalSignalEvent) => boolean, () => void]> = [];
  const onEvent = (event: FatalSignalEvent) => {
    events.push(event);
    for (const [match, resolve] of waiters) if (match(event)) resolve();
  };
  const until = (match: (e: FatalSignalEvent) => boolean, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (events.some(match)) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`no such event: ${JSON.stringify(events)}`)),
        ms,
      );
      waiters.push([match, () => {
        clearTimeout(timer);
        resolve();
      }]);
    });
  return { events, onEvent, until };
}

Deno.test({
  name:
    "the native watcher follows a watched shell into its crashing child, stops it at exec and records its stack",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const before = bpfFds();
    const { events, onEvent, until } = collector();
    const source = await NativeFatalSignalSource.load({ onEvent });
    try {
      // 2 maps, 4 programs, 4 links, the loader hook's program, epoll, eventfd.
      assert.equal(source.fds.length, 13, `fds ${source.fds}`);
      assert.equal(bpfFds().length, before.length + 13, bpfFds().join(" "));
      // The shell forks the program (no exec of its own: it is already running).
      const child = await spawnStopped("/bin/sh", ["-c", `${exe}; echo done`], {
        output: "null",
      });
      source.watch(child.pid);
      child.resume();
      // The shell's own exec (it is the held `sh -c 'kill -STOP $$ && exec "$@"'`).
      await until((e) => e.line.kind === "exec" && pidOf(e) === child.pid);
      Deno.kill(child.pid, "SIGCONT");
      await until((e) => e.line.kind === "exec" && pidOf(e) !== child.pid);
      const execs = events.filter((e) => e.line.kind === "exec").map((e) => pidOf(e));
      const grandchild = execs.find((pid) => pid !== child.pid)!;
      // Stopped by the program itself before its first instruction. The event can come
      // while the SIGSTOP is still on its way (the exec not yet back in user space): it
      // stops, and nothing but our SIGCONT below resumes it.
      let state: string | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        state = await processState(grandchild);
        if (state === "T") break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(state, "T");
      Deno.kill(grandchild, "SIGCONT");
      await until((e) => e.line.kind === "signal");
      await child.status;
      await until((e) => e.line.kind === "exit" && pidOf(e) === child.pid);
      const signal = events.find((e) => e.line.kind === "signal")!;
      assert.deepEqual(signal.line, {
        kind: "signal",
        pid: grandchild,
        tid: grandchild,
        signal: 11,
        result: 0,
      });
      // crash_here, level_one, main, then libc's start code: frame pointers all the way.
      assert.ok(signal.addresses!.length >= 3, `${signal.addresses}`);
      assert.ok(events.some((e) => e.line.kind === "exit" && pidOf(e) === grandchild));
    } finally {
      await source.close();
    }
    assert.deepEqual(bpfFds(), before, "every map, program and perf event fd is closed");
  },
});

Deno.test({
  name:
    "the native watcher records nothing for an unwatched process, nor for a SIGSEGV sent by another",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const { events, onEvent } = collector();
    const source = await NativeFatalSignalSource.load({ onEvent });
    try {
      const unwatched = await new Deno.Command(exe, { stdout: "null", stderr: "null" }).output();
      assert.equal(unwatched.signal, "SIGSEGV");
      const sleeper = await spawnStopped("sleep", ["30"], { output: "null" });
      source.watch(sleeper.pid);
      sleeper.resume();
      await new Promise((resolve) => setTimeout(resolve, 100));
      Deno.kill(sleeper.pid, "SIGCONT"); // stopped at its exec
      sleeper.kill("SIGSEGV");
      assert.equal((await sleeper.status).signal, "SIGSEGV");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(events.map((e) => e.line.kind), ["exec", "exit"]);
      assert.equal(source.unwatch(sleeper.pid), false, "its exit removed it");
    } finally {
      await source.close();
    }
  },
});

Deno.test({
  name: "once the native watcher is closed no program runs: a watched process execs unstopped",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    const { events, onEvent } = collector();
    const source = await NativeFatalSignalSource.load({ onEvent });
    const child = await spawnStopped("/bin/true", [], { output: "null" });
    try {
      source.watch(child.pid);
    } finally {
      await source.close();
    }
    // Held before its exec, watched: an exec program still attached would stop it there
    // (and keep the map holding its pid alive).
    child.resume();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      child.status,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 10_000)),
    ]);
    clearTimeout(timer);
    if (status === undefined) child.kill("SIGKILL");
    assert.equal(status?.code, 0, "it ran to its end without being stopped");
    assert.deepEqual(events, []);
  },
});

Deno.test({
  name:
    "the loader hook sends maps records for a watched process's start and dlopen only, and goes with close()",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(
      dir.path,
      "dl",
      `#include <dlfcn.h>
int main(void) { return dlopen("libm.so.6", RTLD_NOW) ? 0 : 1; }
`,
    );
    const loader = findLoader(await Deno.readTextFile("/proc/self/maps"));
    assert.ok(loader, "this process has a dynamic loader");
    const before = bpfFds();
    const { events, onEvent, until } = collector();
    const source = await NativeFatalSignalSource.load({ onEvent });
    try {
      await source.hookLoader(loader.path);
      assert.equal(source.fds.length, 14, "the uprobe's perf event");
      assert.equal(bpfFds().length, before.length + 14, bpfFds().join(" "));
      const unwatched = await new Deno.Command(exe).output();
      assert.equal(unwatched.code, 0);
      const child = await spawnStopped(exe, [], { output: "null" });
      source.watch(child.pid);
      child.resume();
      await until((e) => e.line.kind === "exec" && pidOf(e) === child.pid);
      Deno.kill(child.pid, "SIGCONT");
      assert.equal((await child.status).code, 0);
      await until((e) => e.line.kind === "exit" && pidOf(e) === child.pid);
      const maps = events.filter((e) => e.line.kind === "maps");
      // Start-up and the dlopen: the loader calls _dl_debug_state before and after each.
      assert.ok(maps.length >= 2, JSON.stringify(events));
      assert.deepEqual(new Set(maps.map(pidOf)), new Set([child.pid]));
    } finally {
      await source.close();
    }
    assert.deepEqual(bpfFds(), before, "every fd is closed, the uprobe's too");
  },
});

Deno.test({
  name: "hookLoader() says why a loader cannot be hooked, and the source still works",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    await using dir = await tempDir();
    const exe = await compileC(dir.path, "segv", SEGV_C);
    const source = await NativeFatalSignalSource.load({ onEvent: () => {} });
    try {
      await assert.rejects(
        () => source.hookLoader(exe),
        new RegExp(`"${exe}" has no function _dl_debug_state`),
      );
      // The attach itself: a file offset past the end of the file.
      await assert.rejects(
        () => attachUprobe(exe, 1 << 30, source.fds[0]),
        /^SyscallError: perf_event_open\(uprobe .*\+0x40000000\) failed: EINVAL/,
      );
      assert.equal(source.fds.length, 13, "nothing left open by the failures");
    } finally {
      await source.close();
    }
  },
});

Deno.test({
  name: "the programs load while signals keep arriving (the verifier's EAGAIN is tried again)",
  ignore,
  async fn() {
    assert.ok(isRoot, "loading eBPF programs needs root (CI runs as root)");
    await using dir = await tempDir();
    // V8's sampling profiler sends this process a SIGPROF every 200 µs; a load that sees one
    // pending fails with EAGAIN (14 of 30 watcher loads did before loads were tried again).
    const script = `${dir.path}/load.ts`;
    const source = new URL("../lib/features/run/crash/native_fatal_signal.ts", import.meta.url);
    await Deno.writeTextFile(
      script,
      `import { NativeFatalSignalSource } from ${JSON.stringify(source.href)};
const failures = [];
for (let i = 0; i < 30; i++) {
  try {
    await (await NativeFatalSignalSource.load({ onEvent: () => {} })).close();
  } catch (error) {
    failures.push(String(error).slice(0, 200));
  }
}
console.log(JSON.stringify(failures));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--cpu-prof", `--cpu-prof-dir=${dir.path}`, "--cpu-prof-interval=200"]
        .concat([script]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(text), [], "every one of 30 loads succeeded");
  },
});
