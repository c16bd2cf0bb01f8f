import assert from "node:assert/strict";
import { coreDumpResult, crashWatcherResult } from "./crash_results.ts";

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

Deno.test("crashWatcherResult(): native when its programs load, else bpftrace with the reason", () => {
  assert.deepEqual(crashWatcherResult({ root: true, engine: "auto" }), {
    check: "crash eBPF",
    status: "ok",
    message:
      "native eBPF programs loaded by wrapp (no bpftrace); a uprobe on the dynamic loader says when a service maps a library",
  });
  const noUprobes = crashWatcherResult({
    root: true,
    engine: "auto",
    noUprobes: 'Cannot read "/sys/bus/event_source/devices/uprobe/type"',
  });
  assert.equal(noUprobes.status, "warning");
  assert.match(noUprobes.message, /but no uprobes: Cannot read .*re-read every second/);
  assert.match(noUprobes.fix ?? "", /CONFIG_UPROBE_EVENTS/);
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
