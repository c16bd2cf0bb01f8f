/**
 * How the sinks encode a `hang` event: the fields of its entry in the crash stream
 * (`kind` = `hang`), the instant on the trace's crash track, and the backtrace text both
 * carry.
 *
 * The Redis sink loads this module with the first crash or hang it encodes, not at start.
 *
 * @module
 */

import type { HangEvent, HangReport } from "../../../core/events/hang.ts";
import { boundText } from "../../../core/bound_text.ts";
import { hangFrameName, programLine, threadLines, topOwnFrame } from "./backtrace_text.ts";
import { nonEmptyFields } from "./non_empty_fields.ts";

/**
 * The report as text for people (the crash stream's `backtrace` field, the trace's
 * instant): what fired, the program, then every thread's frames.
 */
export function formatHangBacktrace(
  report: HangReport,
  options: { maxBytes?: number } = {},
): string {
  const lines = [
    `${report.service} (pid ${report.pid}) hung: ${report.detail}`,
    programLine(report),
  ];
  if (report.statusText) lines.push(`last status: ${report.statusText}`);
  for (const problem of report.problems) lines.push(`note: ${problem}`);
  lines.push(...threadLines(report.threads, { maxFrames: 64, markCrashed: false }));
  return boundText(lines.join("\n"), options.maxBytes ?? 64 << 10).text;
}

/**
 * Fields of the crash stream entry after the `message` (= `event.summary`), `ts`, `run`
 * and `pid` every entry gets: `kind` = `hang`, `reason`, `detail`, `limit_ms`,
 * `silent_ms`, `status_text`, `exe`, `image`, `build_id`, `machine`, `source`,
 * `backtrace`, `problems`, `gdb`. Empty values are left out.
 */
export function hangStreamFields(event: HangEvent): Record<string, string> {
  const r = event.report;
  const fields: Record<string, string | undefined> = {
    kind: "hang",
    reason: r.reason,
    detail: r.detail,
    limit_ms: r.limitMs === undefined ? undefined : String(r.limitMs),
    silent_ms: String(Math.round(r.silentMs)),
    status_text: r.statusText,
    exe: r.executable,
    image: r.image,
    build_id: r.buildId,
    machine: r.machine,
    source: r.source,
    backtrace: formatHangBacktrace(r),
    problems: r.problems.length > 0 ? r.problems.join("\n") : undefined,
    gdb: r.gdbText,
  };
  return nonEmptyFields(fields);
}

/**
 * The TEF instant for a hang, on the crash track (`tid`): `ph: "i"`, `s: "t"`,
 * `cat: "hang"`, name `hang in stuck_here()`, args with the summary and backtrace text.
 * `pid` and `ts` (µs) are the sink's.
 */
export function hangTraceEvent(
  event: HangEvent,
  track: { pid: number; tid: number },
): Record<string, unknown> {
  const r = event.report;
  const top = topOwnFrame(r.threads[0]?.frames ?? []);
  const args: Record<string, unknown> = {
    summary: event.summary,
    reason: r.reason,
    detail: r.detail,
    pid: r.pid,
    executable: r.executable,
    source: r.source,
    backtrace: formatHangBacktrace(r),
  };
  if (r.statusText) args.status_text = r.statusText;
  if (r.buildId) args.build_id = r.buildId;
  return {
    ph: "i",
    s: "t",
    cat: "hang",
    name: top ? `hang in ${hangFrameName(top)}` : "hang",
    pid: track.pid,
    tid: track.tid,
    ts: Math.round(event.time * 1000),
    args,
  };
}
