/**
 * The rules of Perfetto's JSON importer that one Trace Event Format event must meet on its
 * own, field by field (see `perfetto_rules.ts` for the list); the rules across events
 * (`B`/`E` balance, nesting) are in `perfetto_slice_check.ts`.
 *
 * @module
 */

import { showJsonValue as _show } from "./show_json_value.ts";

/** Metadata event names Perfetto's JSON importer handles, with the arg each needs. */
export const METADATA_NAMES: Readonly<Record<string, "name" | "sort_index">> = {
  process_name: "name",
  thread_name: "name",
  process_sort_index: "sort_index",
  thread_sort_index: "sort_index",
};

const _UINT32_MAX = 4_294_967_295;
const _INSTANT_SCOPES = new Set(["g", "p", "t"]);

/** Reports one problem of the event being checked: `bad("has no ts")`. */
export type ReportProblem = (problem: string) => void;

/**
 * Check one event's fields, given its (supported) phase `ph`; report each problem through
 * `bad`. Returns `false` when its track or times are unusable for slice checks.
 */
export function checkEventFields(
  e: Record<string, unknown>,
  ph: string,
  bad: ReportProblem,
): boolean {
  const tsUsable = _checkTs(e, ph, bad);
  const trackUsable = _checkPidAndTid(e, ph, bad);
  _checkName(e, ph, bad);
  const args = _objectArgs(e, bad);
  const phaseUsable = _checkPhaseFields(e, ph, args, bad);
  return tsUsable && trackUsable && phaseUsable;
}

/** `ts` is a finite number; only `M` may omit it. */
function _checkTs(e: Record<string, unknown>, ph: string, bad: ReportProblem): boolean {
  if (e.ts === undefined) {
    if (ph === "M") return true;
    bad("has no ts");
    return false;
  }
  if (!_isFiniteNumber(e.ts)) {
    bad(`has non-numeric ts ${_show(e.ts)}`);
    return false;
  }
  return true;
}

/** `pid` and `tid` are uint32 integers; process metadata may omit `tid`. */
function _checkPidAndTid(e: Record<string, unknown>, ph: string, bad: ReportProblem): boolean {
  let usable = true;
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
  return usable;
}

/** `name` is a string; only `E` and `e` may omit it. */
function _checkName(e: Record<string, unknown>, ph: string, bad: ReportProblem): void {
  if (e.name === undefined) {
    if (ph !== "E" && ph !== "e") bad("has no name");
  } else if (typeof e.name !== "string") {
    // Perfetto reads name with asCString(), which throws on other types.
    bad(`has non-string name ${_show(e.name)}`);
  }
}

/** `args` when it is an object; anything else but absent is a problem. */
function _objectArgs(
  e: Record<string, unknown>,
  bad: ReportProblem,
): Record<string, unknown> | undefined {
  const args = e.args;
  if (typeof args === "object" && args !== null && !Array.isArray(args)) {
    return args as Record<string, unknown>;
  }
  if (args !== undefined) bad(`has args ${_show(args)}, expected an object`);
  return undefined;
}

/** The fields particular to the phase; `false` when an `X` has no usable `dur`. */
function _checkPhaseFields(
  e: Record<string, unknown>,
  ph: string,
  args: Record<string, unknown> | undefined,
  bad: ReportProblem,
): boolean {
  switch (ph) {
    case "X":
      return _checkDur(e.dur, bad);
    case "C":
      _checkCounterArgs(e.args, args, bad);
      break;
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
    case "M":
      _checkMetadata(e.name, args, bad);
      break;
  }
  return true;
}

/** An `X` event's `dur`: a finite number ≥ 0. */
function _checkDur(dur: unknown, bad: ReportProblem): boolean {
  if (dur === undefined) {
    bad("has no dur");
    return false;
  }
  if (!_isFiniteNumber(dur)) {
    bad(`has non-numeric dur ${_show(dur)}`);
    return false;
  }
  if (dur < 0) {
    bad(`has negative dur ${dur}`);
    return false;
  }
  return true;
}

/**
 * A `C` event's args: at least one, every value a finite number. `rawArgs` is the field as
 * written, `args` the same when it is an object (a non-object was reported already).
 */
function _checkCounterArgs(
  rawArgs: unknown,
  args: Record<string, unknown> | undefined,
  bad: ReportProblem,
): void {
  const entries = args ? Object.entries(args) : [];
  if (entries.length === 0) {
    if (rawArgs === undefined || args) {
      bad("has no args (a counter needs at least one numeric arg)");
    }
    return;
  }
  for (const [key, value] of entries) {
    if (!_isFiniteNumber(value)) bad(`has non-numeric arg ${_show(key)}`);
  }
}

/** An `M` event: one of {@linkcode METADATA_NAMES}, with the arg that name needs. */
function _checkMetadata(
  name: unknown,
  args: Record<string, unknown> | undefined,
  bad: ReportProblem,
): void {
  if (typeof name !== "string") return;
  const argName = METADATA_NAMES[name];
  if (!Object.hasOwn(METADATA_NAMES, name)) {
    bad(`is not supported (only ${Object.keys(METADATA_NAMES).join(", ")})`);
  } else if (argName === "name") {
    const value = args ? args.name : undefined;
    if (typeof value !== "string") bad("has no string args.name");
  } else {
    const value = args ? args.sort_index : undefined;
    if (!Number.isInteger(value)) bad("has no integer args.sort_index");
  }
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
