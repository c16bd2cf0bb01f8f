/**
 * When the crash watcher reads a service's /proc/<pid>/maps: a library the service
 * dlopens long after its start is read (announced by the dynamic loader's uprobe, not by
 * a poll), so a crash inside it is symbolized; and a service that does nothing causes no
 * read at all.
 *
 * Real C programs (compileC), the real kernel: needs root (eBPF) and, for the bpftrace
 * engine, bpftrace. Under CI a missing prerequisite fails; elsewhere the tests are skipped.
 */

import assert from "node:assert/strict";
import { captureCrash } from "../lib/features/run/crash/crash_report.ts";
import {
  type CrashWatcherEngine,
  EbpfCrashWatcher,
} from "../lib/features/run/crash/ebpf_backtrace.ts";
import { spawnStopped, type StoppedChild } from "../lib/pipeline/sources/spawn_stopped.ts";
import { compileC, tempDir } from "./_helpers.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";
const ignore = !isRoot && !CI;

/**
 * Prints "ready", then at each byte read from the fifo argv[2]: dlopen argv[1], then call
 * its late_crash(NULL). Nothing else: between the steps it sleeps in read().
 */
const SERVICE_C = `#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char byte;
  puts("ready");
  fflush(stdout);
  int fifo = open(argv[2], O_RDONLY);
  if (read(fifo, &byte, 1) != 1) return 1;
  void *library = dlopen(argv[1], RTLD_NOW);
  if (!library) { fprintf(stderr, "%s\\n", dlerror()); return 2; }
  void (*late_crash)(int *) = (void (*)(int *))dlsym(library, "late_crash");
  if (read(fifo, &byte, 1) != 1) return 1;
  late_crash(NULL);
  return 0;
}
`;

const LIBRARY_C = `__attribute__((noinline)) void late_inner(int *p) { *p = 7; }
__attribute__((noinline)) void late_crash(int *p) { late_inner(p); }
`;

/** Build the service (compileC) and its library (`gcc -shared`) in `dir`. */
async function build(dir: string): Promise<{ service: string; library: string; fifo: string }> {
  const service = await compileC(dir, "late", SERVICE_C);
  const library = `${dir}/liblate.so`;
  await Deno.writeTextFile(`${dir}/liblate.c`, LIBRARY_C);
  const gcc = await new Deno.Command("gcc", {
    args: [
      "-g",
      "-O0",
      "-fno-omit-frame-pointer",
      "-shared",
      "-fPIC",
      "-o",
      library,
      `${dir}/liblate.c`,
    ],
    stderr: "piped",
  }).output();
  assert.ok(gcc.success, new TextDecoder().decode(gcc.stderr));
  const fifo = `${dir}/steps`;
  const mkfifo = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(mkfifo.success, "mkfifo");
  return { service, library, fifo };
}

/** Every maps read of the watcher, and a way to wait for one. */
function mapsReads() {
  const reads: Array<{ pid: number; maps: string }> = [];
  const waiters: Array<() => void> = [];
  return {
    reads,
    onMapsRead(pid: number, maps: string) {
      reads.push({ pid, maps });
      for (const wake of waiters.splice(0)) wake();
    },
    /** Resolve once a read matches; reject after `ms` (a hang guard, not a target). */
    async until(match: (read: { pid: number; maps: string }) => boolean, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!reads.some(match)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no such maps read among ${reads.length}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push(resolve)),
          new Promise<void>((resolve) => timer = setTimeout(resolve, left)),
        ]);
        clearTimeout(timer);
      }
    },
  };
}

/** The first line of `child`'s stdout. */
async function firstLine(child: StoppedChild): Promise<string> {
  const reader = child.stdout!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return text.split("\n")[0];
}

async function bpftraceInstalled(): Promise<boolean> {
  try {
    return (await new Deno.Command("bpftrace", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

for (const engine of ["native", "bpftrace"] as CrashWatcherEngine[]) {
  Deno.test({
    name:
      `a crash in a library dlopen'ed long after the start is symbolized (${engine} engine): the loader announces it`,
    ignore,
    async fn() {
      assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
      if (engine === "bpftrace") {
        assert.ok(
          await bpftraceInstalled(),
          "bpftrace is not installed (apt-get install bpftrace)",
        );
      }
      await using dir = await tempDir();
      const { service, library, fifo } = await build(dir.path);
      const maps = mapsReads();
      const watcher = await EbpfCrashWatcher.start({
        supervisorPid: Deno.pid,
        engine,
        onMapsRead: maps.onMapsRead,
        refreshMs: 0, // no timed read at all, even for a loader that could not be hooked
      });
      try {
        assert.equal(watcher.engine, engine, watcher.unavailable ?? watcher.nativeFailure);
        const startTime = Date.now();
        const child = await spawnStopped(
          "prlimit",
          ["--core=0", "--", service, library, fifo],
          { output: "piped" },
        );
        watcher.watch(child.pid);
        child.resume();
        assert.equal(await firstLine(child), "ready");
        // Its start is over, and (native) its loader hooked after its first second.
        await watcher.settled();
        await using steps = await Deno.open(fifo, { write: true });
        await steps.write(new Uint8Array([1])); // dlopen
        // No poll: only the loader's record can make the watcher read the new library.
        await maps.until((read) => read.pid === child.pid && read.maps.includes(library));
        await steps.write(new Uint8Array([2])); // crash in it
        const status = await child.status;
        assert.equal(status.signal, "SIGSEGV");
        const report = await captureCrash({
          pid: child.pid,
          uid: 0,
          gid: 0,
          executable: service,
          cwd: dir.path,
          signal: "SIGSEGV",
          startTime,
          crashTime: Date.now(),
          coreLimit: 0,
          service: "svc",
        }, { fallback: watcher.fallback() });
        assert.equal(report.source, "ebpf", report.problems.join("\n"));
        const frames = report.threads[0].frames;
        assert.deepEqual(
          frames.slice(0, 3).map((f) => f.function),
          ["late_inner", "late_crash", "main"],
          JSON.stringify(frames),
        );
        assert.equal(frames[0].library, library);
        assert.equal(frames[2].library, service);
      } finally {
        await watcher.stop();
      }
    },
  });
}

Deno.test({
  name: "an idle watched process causes no read of its maps (native engine)",
  ignore,
  async fn() {
    assert.ok(isRoot, "eBPF backtraces need root (CI runs as root)");
    await using dir = await tempDir();
    const { service, library, fifo } = await build(dir.path);
    const maps = mapsReads();
    const watcher = await EbpfCrashWatcher.start({
      supervisorPid: Deno.pid,
      engine: "native",
      onMapsRead: maps.onMapsRead,
    });
    let child: StoppedChild | undefined;
    try {
      assert.equal(watcher.engine, "native", watcher.unavailable);
      child = await spawnStopped(service, [library, fifo], { output: "piped" });
      watcher.watch(child.pid);
      child.resume();
      // Past its start (the loader's records come before main), asleep in open().
      assert.equal(await firstLine(child), "ready");
      await watcher.settled();
      const pid = child.pid;
      const before = maps.reads.filter((read) => read.pid === pid).length;
      assert.ok(before > 0, "its maps were read at its exec");
      // Longer than two periods of the former 1 s poll.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await watcher.settled();
      const during = maps.reads.filter((read) => read.pid === pid).length - before;
      assert.equal(during, 0, `${during} reads of the maps of an idle process`);
    } finally {
      child?.kill("SIGKILL");
      await child?.status;
      await watcher.stop();
    }
  },
});
