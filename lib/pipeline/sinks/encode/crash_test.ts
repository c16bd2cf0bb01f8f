import assert from "node:assert/strict";
import { frame, report } from "../../../core/events/_test_crash_report.ts";
import type { CrashEvent, CrashReport } from "../../../core/events/crash.ts";
import { checkPerfettoRules } from "../../tef/perfetto_rules.ts";
import { crashStreamFields, crashTraceEvent, formatCrashBacktrace } from "./crash.ts";

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
