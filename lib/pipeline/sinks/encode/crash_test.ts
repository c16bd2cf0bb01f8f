import assert from "node:assert/strict";
import type { CrashEvent, CrashFrame, CrashReport } from "../../../core/events/crash.ts";
import { checkPerfettoRules } from "../../tef/perfetto_rules.ts";
import { crashStreamFields, crashTraceEvent, formatCrashBacktrace } from "./crash.ts";

function frame(index: number, fn: string, extra: Partial<CrashFrame> = {}): CrashFrame {
  return { index, function: fn, address: `0x${(0x1000 + index).toString(16)}`, ...extra };
}

function report(extra: Partial<CrashReport> = {}): CrashReport {
  return {
    service: "svc",
    pid: 4242,
    signal: "SIGSEGV",
    signalNumber: 11,
    shellExitCode: 139,
    executable: "/opt/svc",
    image: "/opt/svc",
    buildId: "0123456789abcdef",
    machine: "aarch64",
    core: {
      path: "/var/crash/core.svc.4242",
      size: 458752,
      via: "file",
      description: "/var/crash/core.svc.4242",
      incomplete: false,
      kept: true,
    },
    source: "core",
    threads: [{
      number: 1,
      lwp: 4242,
      crashed: true,
      frames: [
        frame(0, "crash_here", { args: "p=0x0", file: "segv.c", line: 2 }),
        frame(1, "level_one", { args: "p=0x0", file: "segv.c", line: 3 }),
        frame(2, "main", { file: "segv.c", line: 4 }),
      ],
    }],
    faultAddress: "0x0",
    instruction: "0x1000 <crash_here+12>:\tstr\tw1, [x0]",
    problems: [],
    crashTime: 1_700_000_000_000,
    captureMs: 250,
    ...extra,
  };
}

/** The event as the run feature's crashEvent() makes it. */
function crashEvent(r: CrashReport): CrashEvent {
  return { kind: "crash", time: r.crashTime, summary: "wrapp: svc (pid 4242) crashed", report: r };
}

Deno.test("formatCrashBacktrace() lists every thread, the crashed one first", () => {
  const text = formatCrashBacktrace(report({
    threads: [
      ...report().threads,
      { number: 2, lwp: 4250, name: "worker", crashed: false, frames: [frame(0, "pause")] },
    ],
    problems: ["gdb: core file may not match specified executable file."],
  }));
  assert.equal(
    text,
    [
      "svc (pid 4242) crashed with SIGSEGV (signal 11)",
      "program /opt/svc, build-id 0123456789abcdef, aarch64",
      "core /var/crash/core.svc.4242 (458752 bytes)",
      "fault address 0x0",
      "instruction 0x1000 <crash_here+12>:\tstr\tw1, [x0]",
      "note: gdb: core file may not match specified executable file.",
      "",
      "Thread 1 (LWP 4242), crashed:",
      "  #0 0x1000 crash_here (p=0x0) at segv.c:2",
      "  #1 0x1001 level_one (p=0x0) at segv.c:3",
      "  #2 0x1002 main () at segv.c:4",
      "",
      'Thread 2 (LWP 4250 "worker"):',
      "  #0 0x1000 pause ()",
    ].join("\n"),
  );
  assert.ok(
    new TextEncoder().encode(formatCrashBacktrace(report(), { maxBytes: 100 })).length <= 100,
  );
});

Deno.test("crashStreamFields() carry the backtrace and leave out what is unknown", () => {
  const event = crashEvent(report());
  const fields = crashStreamFields(event);
  assert.equal("message" in fields, false, "the sink writes the summary as message");
  assert.equal(fields.signal, "SIGSEGV");
  assert.equal(fields.signal_number, "11");
  assert.equal(fields.exit_code, "139");
  assert.equal(fields.build_id, "0123456789abcdef");
  assert.equal(fields.core, "/var/crash/core.svc.4242");
  assert.match(fields.backtrace, /#1 0x1001 level_one/);
  assert.equal("registers" in fields, false, "empty values are left out");
  assert.ok(Object.values(fields).every((v) => typeof v === "string"));
});

Deno.test("crashTraceEvent() is an instant on the crash track that Perfetto imports", () => {
  const event = crashTraceEvent(crashEvent(report()), { pid: 100, tid: 6 });
  assert.equal(event.ph, "i");
  assert.equal(event.s, "t");
  assert.equal(event.cat, "crash");
  assert.equal(event.name, "SIGSEGV in crash_here()");
  assert.equal(event.ts, 1_700_000_000_000_000);
  assert.match(String((event.args as Record<string, unknown>).backtrace), /crash_here/);
  assert.deepEqual(checkPerfettoRules([event]), []);
});
