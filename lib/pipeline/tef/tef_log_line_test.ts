import assert from "node:assert/strict";
import type { LogEvent } from "../../core/event.ts";
import { tefMicroseconds } from "./tef_microseconds.ts";
import { tefLogLine } from "./tef_log_line.ts";
import { traceTitle } from "./trace_title.ts";

/** What the line must equal: the object form the trace sink wrote before. */
function viaObjects(pid: number, tid: number, event: LogEvent): string {
  const args: Record<string, unknown> = { text: event.text };
  if (event.split) {
    args.part = event.split.part;
    args.last = event.split.last;
  }
  if (event.lines !== undefined) args.lines = event.lines;
  if (event.unterminated !== undefined) args.unterminated = event.unterminated;
  return JSON.stringify({
    ph: "i",
    ts: tefMicroseconds(event.time),
    pid,
    tid,
    name: traceTitle(event.text),
    cat: event.stream,
    s: "t",
    args,
  }) + "\n";
}

Deno.test("tefLogLine() writes exactly what JSON.stringify of the event object writes", () => {
  const events: LogEvent[] = [
    { kind: "log", time: 1733472000123.4567, stream: "stdout", text: "hello" },
    { kind: "log", time: 0, stream: "stderr", text: "" },
    { kind: "log", time: 5.5, stream: "stdout", text: 'quote " back \\ tab \t nul \0 é 😀 \ud800' },
    { kind: "log", time: 7, stream: "stderr", text: "Traceback\n  at x\n  at y", lines: 3 },
    {
      kind: "log",
      time: 8,
      stream: "stdout",
      text: "x".repeat(300),
      split: { part: 2, last: true },
      unterminated: "bytes",
    },
    { kind: "log", time: 9, stream: "stderr", text: "open", lines: 1, unterminated: "time" },
  ];
  for (const event of events) {
    assert.equal(tefLogLine(4321, 3, event), viaObjects(4321, 3, event), event.text);
  }
});
