/**
 * One service line as a TEF instant, written as text: the hot path of the trace sink, where
 * building `args`, an options object and a spread per line doubled the garbage of a burst.
 *
 * @module
 */

import type { LogEvent } from "../../core/event.ts";
import { tefMicroseconds } from "./tef_microseconds.ts";
import { traceTitle } from "./trace_title.ts";

/**
 * The JSON line (with its "\n") for `event` on track `tid` of process `pid`: the same text
 * as `JSON.stringify({ ph: "i", ts, pid, tid, name, cat, s: "t", args })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tefLogLine } from "./tef_log_line.ts";
 *
 * const line = tefLogLine(7, 2, { kind: "log", time: 1.5, stream: "stdout", text: "hi" });
 * assert.equal(JSON.parse(line).args.text, "hi");
 * ```
 */
export function tefLogLine(pid: number, tid: number, event: LogEvent): string {
  const text = JSON.stringify(event.text);
  let args = `{"text":${text}`;
  if (event.split) args += `,"part":${event.split.part},"last":${event.split.last}`;
  if (event.lines !== undefined) args += `,"lines":${event.lines}`;
  if (event.unterminated !== undefined) args += `,"unterminated":"${event.unterminated}"`;
  const title = traceTitle(event.text);
  const name = title === event.text ? text : JSON.stringify(title);
  return `{"ph":"i","ts":${
    JSON.stringify(tefMicroseconds(event.time))
  },"pid":${pid},"tid":${tid},"name":${name},"cat":"${event.stream}","s":"t","args":${args}}}\n`;
}
