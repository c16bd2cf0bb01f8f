import assert from "node:assert/strict";
import { applyGdbBacktrace, type GdbReportFields } from "./apply_gdb_backtrace.ts";
import type { GdbBacktrace } from "./gdb_backtrace.ts";

function gdb(extra: Partial<GdbBacktrace> = {}): GdbBacktrace {
  return {
    threads: [{ number: 1, crashed: true, frames: [{ index: 0, function: "main" }] }],
    warnings: [],
    raw: "#0 main ()",
    rawTruncated: false,
    timedOut: false,
    exitCode: 0,
    durationMs: 40,
    ...extra,
  };
}

Deno.test("applyGdbBacktrace() copies the threads and gdb's text into the report", () => {
  const report: GdbReportFields = { threads: [], problems: ["earlier"] };
  applyGdbBacktrace(report, gdb());
  assert.deepEqual(report, {
    threads: gdb().threads,
    gdbText: "#0 main ()",
    problems: ["earlier"],
  });
});

Deno.test("applyGdbBacktrace() says when gdb was cut short, with the limit it ran with", () => {
  const report: GdbReportFields = { threads: [], problems: [] };
  applyGdbBacktrace(report, gdb({ rawTruncated: true, timedOut: true }), 5000);
  assert.equal(report.gdbTextTruncated, true);
  assert.deepEqual(report.problems, [
    "gdb did not finish within 5000 ms; the backtrace may be partial",
  ]);
  const byDefault: GdbReportFields = { threads: [], problems: [] };
  applyGdbBacktrace(byDefault, gdb({ timedOut: true }), undefined);
  assert.deepEqual(byDefault.problems, [
    "gdb did not finish within 30000 ms; the backtrace may be partial",
  ]);
});
