import assert from "node:assert/strict";
import { captureCrash } from "./crash_report.ts";
import {
  crashFrames,
  crashWatcherEngine,
  EbpfCrashWatcher,
  findLoader,
  parseFatalSignalLine,
} from "./ebpf_backtrace.ts";
import {
  FATAL_SIGNAL_NUMBERS,
  FATAL_SIGNAL_PROGRAM,
  fatalSignalProgramText,
} from "./fatal_signal_program.ts";

const info = {
  pid: 4242,
  executable: "/bin/true",
  cwd: "/",
  signal: "SIGSEGV",
  crashTime: Date.now(),
  coreLimit: 0,
  service: "svc",
};

Deno.test("parseFatalSignalLine reads the program's printf lines", () => {
  assert.deepEqual(parseFatalSignalLine("R 6367415596782\n"), { kind: "ready" });
  assert.deepEqual(parseFatalSignalLine("E 812"), { kind: "exec", pid: 812 });
  assert.deepEqual(parseFatalSignalLine("X 812\n"), { kind: "exit", pid: 812 });
  assert.deepEqual(parseFatalSignalLine("M 812\n"), { kind: "maps", pid: 812 });
  assert.equal(parseFatalSignalLine("M"), undefined);
  assert.equal(parseFatalSignalLine("X"), undefined);
  assert.deepEqual(parseFatalSignalLine("S 8616 8617 11 0\n"), {
    kind: "signal",
    pid: 8616,
    tid: 8617,
    signal: 11,
    result: 0,
  });
  assert.equal(parseFatalSignalLine("S 1 2 x 0"), undefined);
  assert.equal(parseFatalSignalLine("S 1 2"), undefined);
  assert.equal(parseFatalSignalLine(""), undefined);
  assert.equal(parseFatalSignalLine("hello"), undefined);
});

Deno.test("crashFrames gives gdb-shaped frames", () => {
  assert.deepEqual(
    crashFrames([
      {
        key: "k",
        address: 0x5590450b5145,
        executable: "segv",
        path: "/tmp/segv",
        offset: 0x1139,
        functionName: "crash_here",
        category: "nodeCpp",
      },
      {
        key: "?",
        address: 0x10,
        executable: "[unknown]",
        path: "",
        offset: 0x10,
        category: "unknown",
      },
    ]),
    [
      { index: 0, address: "0x00005590450b5145", function: "crash_here", library: "/tmp/segv" },
      { index: 1, address: "0x0000000000000010", function: "??" },
    ],
  );
});

Deno.test("the embedded program is bpf/fatal_signal.bt and watches the core signals", async () => {
  const text = await Deno.readTextFile(new URL("../../../../bpf/fatal_signal.bt", import.meta.url));
  assert.equal(FATAL_SIGNAL_PROGRAM.text, text);
  for (const tracepoint of FATAL_SIGNAL_PROGRAM.tracepoints) {
    assert.ok(text.includes(`tracepoint:${tracepoint}`), tracepoint);
  }
  for (const signal of FATAL_SIGNAL_NUMBERS) {
    assert.ok(text.includes(`args->sig == ${signal}`), `signal ${signal}`);
  }
  // The loader hook: wrapp writes the loader's path in place of $3.
  assert.ok(text.includes("\nuprobe:$3:_dl_debug_state\n"));
});

Deno.test("findLoader() finds the dynamic loader of a process's maps, by dev:inode", () => {
  const maps = [
    "55d0c8a00000-55d0c8a21000 r-xp 00001000 08:01 1234567                    /usr/bin/app",
    "7f0000000000-7f0000001000 r--p 00000000 00:00 0 ",
    "7f9920b60000-7f9920b61000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "7f9920b61000-7f9920b87000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
  ].join("\n");
  assert.deepEqual(findLoader(maps), {
    path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    key: "fe:00:338944",
  });
  const line = (path: string) => `7f00-7f01 r-xp 00000000 08:02 42    ${path}\n`;
  assert.equal(
    findLoader(line("/lib/aarch64-linux-gnu/ld-2.31.so"))?.path,
    "/lib/aarch64-linux-gnu/ld-2.31.so",
  );
  assert.equal(findLoader(line("/lib/ld-musl-aarch64.so.1"))?.path, "/lib/ld-musl-aarch64.so.1");
  assert.equal(findLoader(line("/usr/lib/libldap.so.2")), undefined);
  assert.equal(findLoader(line("/usr/bin/ld.gold")), undefined);
  assert.equal(findLoader(maps.split("\n").slice(0, 2).join("\n")), undefined, "a static program");
});

Deno.test("without root the watcher does not start and the report says why", async () => {
  const watcher = await EbpfCrashWatcher.start({ pid: 4242, preflight: { uid: 1000 } });
  assert.equal(watcher.active, false);
  assert.match(watcher.unavailable ?? "", /wrapp is not root/);
  const result = await watcher.fallback()(info, "no core");
  assert.equal(result?.threads.length, 0);
  assert.match(result?.note ?? "", /^no eBPF backtrace: wrapp is not root/);

  const report = await captureCrash(info, { fallback: watcher.fallback() });
  assert.equal(report.source, "none");
  assert.ok(
    report.problems.some((p) => p.startsWith("no eBPF backtrace: wrapp is not root")),
    report.problems.join("\n"),
  );
  await watcher.stop();
  await watcher.stop();
});

Deno.test("a watcher needs a pid or a supervisor pid", async () => {
  await assert.rejects(() => EbpfCrashWatcher.start({ preflight: { uid: 1000 } }), RangeError);
});

Deno.test("a missing bpftrace is named in the note", async () => {
  const watcher = await EbpfCrashWatcher.start({
    pid: 4242,
    engine: "bpftrace",
    bpftrace: "/nonexistent/bpftrace",
    preflight: { uid: 0, mountTracefs: false },
  });
  assert.equal(watcher.active, false);
  const result = await watcher.fallback()(info, "no core");
  assert.match(
    result?.note ?? "",
    /^no eBPF backtrace: .*bpftrace is not at "\/nonexistent\/bpftrace"/,
  );
  await watcher.stop();
});

Deno.test("crashWatcherEngine() reads $WRAPP_CRASH_WATCHER: native, bpftrace, else auto", () => {
  assert.equal(crashWatcherEngine("native"), "native");
  assert.equal(crashWatcherEngine("bpftrace"), "bpftrace");
  assert.equal(crashWatcherEngine(undefined), "auto");
  assert.equal(crashWatcherEngine("llvm"), "auto");
});

Deno.test("crashFrames ends a stack that loops outside any file (no frame pointers)", () => {
  const frame = (address: number, path: string, functionName?: string) => ({
    key: `${address}`,
    address,
    executable: path,
    path,
    offset: 0,
    category: "systemLib" as const,
    ...(functionName ? { functionName } : {}),
  });
  const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  const frames = crashFrames([
    frame(0x7f00000010, libc, "__pthread_kill_implementation"),
    frame(0x7f00000999, "[anon]"),
    frame(0x7f00000999, "[anon]"),
    frame(0x7f00000999, "[anon]"),
  ]);
  assert.deepEqual(frames.map((f) => f.function), ["__pthread_kill_implementation"]);
  // Recursion repeats a return address inside a file: kept.
  const recursive = crashFrames([
    frame(0x1000, "/app", "fib"),
    frame(0x1010, "/app", "fib"),
    frame(0x1010, "/app", "fib"),
  ]);
  assert.equal(recursive.length, 3);
});

Deno.test("fatalSignalProgramText() writes the loader's path in the uprobe, or leaves the probe out", () => {
  const loader = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
  const hooked = fatalSignalProgramText(loader);
  assert.equal(hooked.hooked, true);
  assert.ok(hooked.text.includes(`\nuprobe:${loader}:_dl_debug_state\n`));
  assert.ok(!hooked.text.includes("uprobe:$3"));
  for (const path of [undefined, "/opt/my loader/ld-linux.so.2", "ld.so"]) {
    const without = fatalSignalProgramText(path);
    assert.equal(without.hooked, false, String(path));
    assert.ok(!/^uprobe:/m.test(without.text), String(path));
    assert.ok(!without.text.includes('printf("M'), "its block is gone");
    // Only the probe's block goes: the rest of the program stays.
    const text = FATAL_SIGNAL_PROGRAM.text;
    const start = text.indexOf("\nuprobe:$3:") + 1;
    const end = text.indexOf("\n}\n", start) + 3;
    assert.equal(without.text, text.slice(0, start) + text.slice(end), String(path));
  }
});
