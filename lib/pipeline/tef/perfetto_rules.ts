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

/** Metadata event names Perfetto's JSON importer handles, with the arg each needs. */
export const METADATA_NAMES: Readonly<Record<string, "name" | "sort_index">> = {
  process_name: "name",
  thread_name: "name",
  process_sort_index: "sort_index",
  thread_sort_index: "sort_index",
};

const _UINT32_MAX = 4_294_967_295;
const _INSTANT_SCOPES = new Set(["g", "p", "t"]);

/** Options for {@linkcode checkPerfettoRules}. */
export interface CheckPerfettoRulesOptions {
  /**
   * Report at most this many violations, then one line saying how many more there are,
   * so a broken million-event trace does not produce a million strings. Default 100.
   */
  limit?: number;
}

/** A slice on one track, for the nesting check; times in integer ns like Perfetto's. */
interface _Slice {
  readonly index: number;
  readonly label: string;
  readonly start: bigint;
  readonly end: bigint;
}

interface _Track {
  readonly pid: number;
  readonly tid: number;
  /** Open `B` events, innermost last. */
  readonly open: { index: number; label: string; ts: number }[];
  readonly slices: _Slice[];
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
  const tracks = new Map<string, _Track>();
  const trackOf = (pid: number, tid: number): _Track => {
    const key = `${pid}/${tid}`;
    let track = tracks.get(key);
    if (!track) {
      track = { pid, tid, open: [], slices: [] };
      tracks.set(key, track);
    }
    return track;
  };

  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      report(`event ${index}: not an object (got ${_describeType(event)})`);
      continue;
    }
    const e = event as Record<string, unknown>;
    const ph = e.ph;
    if (typeof ph !== "string") {
      report(
        `event ${index}: ${ph === undefined ? "has no ph" : `has non-string ph ${_show(ph)}`}`,
      );
      continue;
    }
    if (!SUPPORTED_PHASES.has(ph)) {
      report(`event ${index}: unsupported ph ${_show(ph)}`);
      continue;
    }
    const name = e.name;
    const label = typeof name === "string" ? `${ph} event ${_show(name)}` : `${ph} event`;
    const bad = (problem: string) => report(`event ${index}: ${label} ${problem}`);
    const ok = _checkEvent(e, ph, bad);
    if (!ok || (ph !== "B" && ph !== "E" && ph !== "X")) continue;

    // Slice bookkeeping: only for events whose track and times are valid.
    const track = trackOf(e.pid as number, e.tid as number);
    const ts = e.ts as number;
    if (ph === "B") {
      track.open.push({ index, label, ts });
    } else if (ph === "E") {
      const begin = track.open.pop();
      if (!begin) {
        bad(`on pid ${track.pid} tid ${track.tid} has no matching B`);
      } else if (ts < begin.ts) {
        bad(
          `on pid ${track.pid} tid ${track.tid} at ts ${ts} is before its B ` +
            `(event ${begin.index}, ts ${begin.ts})`,
        );
      } else {
        track.slices.push({
          index: begin.index,
          label: begin.label,
          start: _ns(begin.ts),
          end: _ns(ts),
        });
      }
    } else {
      const start = _ns(ts);
      track.slices.push({ index, label, start, end: start + _ns(e.dur as number) });
    }
  }

  for (const track of tracks.values()) {
    for (const begin of track.open) {
      report(
        `event ${begin.index}: ${begin.label} on pid ${track.pid} tid ${track.tid} is never ended`,
      );
    }
    _checkNesting(track, report);
  }
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

/** Check one event's fields; `false` when its track or times are unusable for slice checks. */
function _checkEvent(
  e: Record<string, unknown>,
  ph: string,
  bad: (problem: string) => void,
): boolean {
  let usable = true;

  if (e.ts === undefined) {
    if (ph !== "M") {
      bad("has no ts");
      usable = false;
    }
  } else if (!_isFiniteNumber(e.ts)) {
    bad(`has non-numeric ts ${_show(e.ts)}`);
    usable = false;
  }

  const processScoped = ph === "M" &&
    (e.name === "process_name" || e.name === "process_sort_index");
  for (const key of ["pid", "tid"] as const) {
    const value = e[key];
    if (value === undefined) {
      if (key === "tid" && processScoped) continue;
      bad(`has no ${key}`);
      usable = false;
    } else if (
      !Number.isInteger(value) || (value as number) < 0 || (value as number) > _UINT32_MAX
    ) {
      bad(`has ${key} ${_show(value)}, expected an integer 0..${_UINT32_MAX}`);
      usable = false;
    }
  }

  if (e.name === undefined) {
    if (ph !== "E" && ph !== "e") bad("has no name");
  } else if (typeof e.name !== "string") {
    // Perfetto reads name with asCString(), which throws on other types.
    bad(`has non-string name ${_show(e.name)}`);
  }

  const args = e.args;
  const argsIsObject = typeof args === "object" && args !== null && !Array.isArray(args);
  if (args !== undefined && !argsIsObject) bad(`has args ${_show(args)}, expected an object`);

  switch (ph) {
    case "X":
      if (e.dur === undefined) {
        bad("has no dur");
        usable = false;
      } else if (!_isFiniteNumber(e.dur)) {
        bad(`has non-numeric dur ${_show(e.dur)}`);
        usable = false;
      } else if (e.dur < 0) {
        bad(`has negative dur ${e.dur}`);
        usable = false;
      }
      break;
    case "C": {
      const entries = argsIsObject ? Object.entries(args) : [];
      if (entries.length === 0) {
        if (args === undefined || argsIsObject) {
          bad("has no args (a counter needs at least one numeric arg)");
        }
        break;
      }
      for (const [key, value] of entries) {
        if (!_isFiniteNumber(value)) bad(`has non-numeric arg ${_show(key)}`);
      }
      break;
    }
    case "b":
    case "e":
    case "n":
      if (typeof e.cat !== "string") {
        bad(e.cat === undefined ? "has no cat" : `has non-string cat ${_show(e.cat)}`);
      }
      if (!_hasId(e)) bad("has no id");
      break;
    case "s":
    case "t":
    case "f":
      if (!_hasId(e)) bad("has no id");
      break;
    case "i":
    case "I":
      if (e.s !== undefined && !(typeof e.s === "string" && _INSTANT_SCOPES.has(e.s))) {
        bad(`has scope ${_show(e.s)}, expected "g", "p" or "t"`);
      }
      break;
    case "M": {
      if (typeof e.name !== "string") break;
      const argName = METADATA_NAMES[e.name];
      if (!Object.hasOwn(METADATA_NAMES, e.name)) {
        bad(`is not supported (only ${Object.keys(METADATA_NAMES).join(", ")})`);
      } else if (argName === "name") {
        const value = argsIsObject ? (args as Record<string, unknown>).name : undefined;
        if (typeof value !== "string") bad("has no string args.name");
      } else {
        const value = argsIsObject ? (args as Record<string, unknown>).sort_index : undefined;
        if (!Number.isInteger(value)) bad("has no integer args.sort_index");
      }
      break;
    }
  }
  return usable;
}

/**
 * Report slices on one track that overlap without nesting. Sorting by start, longest
 * first, puts every parent before its children; a stack of open slices then finds any
 * slice that starts inside another and ends after it.
 */
function _checkNesting(track: _Track, report: (text: string) => void): void {
  const order = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
  const slices = track.slices.sort((a, b) =>
    order(a.start, b.start) || order(b.end, a.end) || a.index - b.index
  );
  const stack: _Slice[] = [];
  for (const slice of slices) {
    while (stack.length > 0 && stack[stack.length - 1].end <= slice.start) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent && slice.end > parent.end) {
      report(
        `event ${slice.index}: ${slice.label} (${_span(slice)}) overlaps event ${parent.index}: ` +
          `${parent.label} (${
            _span(parent)
          }) on pid ${track.pid} tid ${track.tid} without nesting in it`,
      );
      continue; // Keep the earlier slice as the reference for the ones that follow.
    }
    stack.push(slice);
  }
}

/**
 * µs → integer ns, as Perfetto stores timestamps. BigInt: epoch ns (~1.8e18) are beyond
 * what a double holds exactly, and float noise like 1.1 + 2.2 must not count either.
 */
function _ns(us: number): bigint {
  const whole = Math.trunc(us);
  return BigInt(whole) * 1000n + BigInt(Math.round((us - whole) * 1000));
}

function _span(slice: _Slice): string {
  return `ts ${_us(slice.start)} to ${_us(slice.end)}`;
}

/** Integer ns → µs as written in the file (`1.5`, `1795618853146814`). */
function _us(ns: bigint): string {
  const sign = ns < 0n ? "-" : "";
  const abs = ns < 0n ? -ns : ns;
  const fraction = (abs % 1000n).toString().padStart(3, "0").replace(/0+$/, "");
  return `${sign}${abs / 1000n}${fraction ? `.${fraction}` : ""}`;
}

function _hasId(e: Record<string, unknown>): boolean {
  const isId = (v: unknown) => (typeof v === "string" && v !== "") || _isFiniteNumber(v);
  if (isId(e.id)) return true;
  const id2 = e.id2;
  if (typeof id2 !== "object" || id2 === null) return false;
  const { local, global } = id2 as Record<string, unknown>;
  return isId(local) || isId(global);
}

function _isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function _describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/** A value as it would appear in JSON (`"12"`, `-1`, `null`), shortened. */
function _show(value: unknown): string {
  let text: string;
  if (typeof value === "number") text = String(value); // JSON.stringify(NaN) would say null
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
