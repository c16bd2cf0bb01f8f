import assert from "node:assert/strict";
import { captureCrash } from "./crash_report.ts";
import { EbpfCrashWatcher } from "./ebpf_backtrace.ts";

const info = {
  pid: 4242,
  executable: "/bin/true",
  cwd: "/",
  signal: "SIGSEGV",
  crashTime: Date.now(),
  coreLimit: 0,
  service: "svc",
};

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
