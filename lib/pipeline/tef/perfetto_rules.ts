/**
 * Checks Trace Event Format (TEF) events against what Perfetto's JSON importer accepts.
 *
 * Perfetto silently drops (or counts in an obscure stats table) events it cannot import,
 * so a trace can look fine and still be missing slices. These checks say exactly which
 * event breaks which rule, for tests and for commands that accept traces from elsewhere.
 *
 * Rules (DESIGN.md "TEF" and Perfetto's `json_trace_tokenizer.cc` / `json_trace_parser_impl.cc`):
 * - every event is an object with a supported `ph`: `B E X i I C b e n s t f M`;
 * - `ts` is a finite number of microseconds; only `M` may omit it;
 * - `pid` and `tid` are integers in the uint32 range (`tid` may be omitted by
 *   `process_name` / `process_sort_index`);
 * - `name` is a string; only `E` and `e` may omit it (Perfetto matches them by stack or id);
 * - `X` has a numeric `dur` ≥ 0; `C` has non-empty `args`, every value a finite number;
 * - `b`/`e`/`n` have `cat` and `id` (or `id2`); `s`/`t`/`f` have `id`;
 * - `i`/`I` scope `s`, when present, is `g`, `p` or `t`;
 * - `M` is only `process_name`/`thread_name` (string `args.name`) or
 *   `process_sort_index`/`thread_sort_index` (integer `args.sort_index`);
 * - `B`/`E` balance per (pid, tid) in file order, an `E` never earlier than its `B`;
 * - slices (`B`/`E` pairs and `X`) on one track nest properly: none overlaps another
 *   without containing it.
 *
 * @module
 */

import { checkEventFields } from "./perfetto_event_fields.ts";
import { PerfettoSliceCheck } from "./perfetto_slice_check.ts";
import { showJsonValue as _show } from "./show_json_value.ts";

/** Phases Perfetto's JSON importer handles. */
export const SUPPORTED_PHASES: ReadonlySet<string> = new Set([
  "B",
  "E",
  "X",
  "i",
  "I",
  "C",
  "b",
  "e",
  "n",
  "s",
  "t",
  "f",
  "M",
]);

export { METADATA_NAMES } from "./perfetto_event_fields.ts";

/** Options for {@linkcode checkPerfettoRules}. */
export interface CheckPerfettoRulesOptions {
  /**
   * Report at most this many violations, then one line saying how many more there are,
   * so a broken million-event trace does not produce a million strings. Default 100.
   */
  limit?: number;
}

/**
 * Check TEF events against Perfetto's importer rules.
 *
 * Returns one human-readable line per violation, empty when the events are fine:
 * `event 12: C event "temp" has non-numeric arg "x"`. Event numbers are 0-based indexes
 * into `events`.
 *
 * @example A counter with a text value
 * ```ts
 * import { checkPerfettoRules } from "@wrapp/wrapp";
 *
 * const event = { ph: "C", name: "temp", ts: 0, pid: 1, tid: 1, args: { x: "hot" } };
 * checkPerfettoRules([event]); // ['event 0: C event "temp" has non-numeric arg "x"']
 * ```
 */
export function checkPerfettoRules(
  events: readonly unknown[],
  options: CheckPerfettoRulesOptions = {},
): string[] {
  const limit = options.limit ?? 100;
  const violations: string[] = [];
  let more = 0;
  const report = (text: string) => {
    if (violations.length < limit) violations.push(text);
    else more++;
  };
  const slices = new PerfettoSliceCheck();
  for (let index = 0; index < events.length; index++) {
    const event = _phasedEvent(events[index], index, report);
    if (event === undefined) continue;
    const { e, ph } = event;
    const label = typeof e.name === "string" ? `${ph} event ${_show(e.name)}` : `${ph} event`;
    const bad = (problem: string) => report(`event ${index}: ${label} ${problem}`);
    const ok = checkEventFields(e, ph, bad);
    // Slice bookkeeping: only for events whose track and times are valid.
    if (!ok || (ph !== "B" && ph !== "E" && ph !== "X")) continue;
    slices.add({
      index,
      label,
      ph,
      pid: e.pid as number,
      tid: e.tid as number,
      ts: e.ts as number,
      dur: e.dur as number | undefined,
    }, bad);
  }
  slices.finish(report);
  if (more > 0) violations.push(`${more} more violation${more === 1 ? "" : "s"} not shown`);
  return violations;
}

/**
 * Check the text of a trace file: what Perfetto needs to detect and load it, then
 * {@linkcode checkPerfettoRules} on its events.
 *
 * The text must start with `[{"` exactly (no leading whitespace: Perfetto's format
 * detection looks at the first bytes), be valid JSON in array form and hold at least one
 * event.
 *
 * @example Checking a trace file before opening it
 * ```ts
 * import { checkTraceFileText } from "@wrapp/wrapp";
 *
 * const problems = checkTraceFileText(await Deno.readTextFile("trace.json"));
 * console.log(problems.length === 0 ? "Perfetto can open it" : problems.join("\n"));
 * ```
 */
export function checkTraceFileText(
  text: string,
  options: CheckPerfettoRulesOptions = {},
): string[] {
  if (text.length === 0) return ["Trace is empty"];
  if (!text.startsWith('[{"')) {
    // Single quotes around the raw text: JSON-escaping it would bury the quotes that matter.
    const start = JSON.stringify(text.slice(0, 16)).slice(1, -1).replaceAll('\\"', '"');
    const form = text.startsWith('{"') ? " (object form; write array form)" : "";
    return [
      `Trace must start with '[{"' for Perfetto to detect it, but starts with '${start}'${form}`,
    ];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return [`Trace is not valid JSON: ${(error as Error).message}`];
  }
  // Valid JSON starting with `[{"` is an array holding at least one object.
  return checkPerfettoRules(parsed as unknown[], options);
}

/** The event as an object with a supported `ph`, or `undefined` after reporting why not. */
function _phasedEvent(
  event: unknown,
  index: number,
  report: (text: string) => void,
): { e: Record<string, unknown>; ph: string } | undefined {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    report(`event ${index}: not an object (got ${_describeType(event)})`);
    return undefined;
  }
  const e = event as Record<string, unknown>;
  const ph = e.ph;
  if (typeof ph !== "string") {
    report(
      `event ${index}: ${ph === undefined ? "has no ph" : `has non-string ph ${_show(ph)}`}`,
    );
    return undefined;
  }
  if (!SUPPORTED_PHASES.has(ph)) {
    report(`event ${index}: unsupported ph ${_show(ph)}`);
    return undefined;
  }
  return { e, ph };
}

function _describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
