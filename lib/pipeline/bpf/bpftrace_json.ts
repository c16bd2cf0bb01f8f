/**
 * Parses the lines `bpftrace -f json` prints on stdout.
 *
 * Every line is one JSON object `{"type": …, "data": …}` (bpftrace 0.14 to 0.17 and
 * later): `attached_probes`, `printf`, `map`, `hist`, `lhist`, `stats`, `value`,
 * `lost_events`, `time`, `join`, `syscall`, `helper_error`. bpftrace also prints blank
 * lines around the maps it prints at exit; those parse to `undefined`.
 *
 * @module
 */

/** One map as printed by `print(@m)`: key text (`"1,2,3"` for tuple keys, `""` for none) → value. */
export type BpftraceMapData = Readonly<Record<string, unknown>>;

/** What one line of `bpftrace -f json` says. */
export type BpftraceMessage =
  | { readonly type: "attached_probes"; readonly probes: number }
  | { readonly type: "printf"; readonly text: string }
  | {
    readonly type: "map";
    /** `map`, `hist`, `lhist` or `stats`: which aggregation printed it. */
    readonly format: "map" | "hist" | "lhist" | "stats";
    /** Map name with its `@`. */
    readonly name: string;
    /** Key → value; a keyless map has the single key `""`. */
    readonly entries: BpftraceMapData;
  }
  | { readonly type: "lost_events"; readonly events: number }
  | { readonly type: "helper_error"; readonly message: string; readonly raw: unknown }
  | { readonly type: "other"; readonly kind: string; readonly data: unknown };

/**
 * Parse one line. Blank lines give `undefined`; a line that is not a JSON object with a
 * string `type` throws a `SyntaxError` quoting it (bpftrace wrote something unexpected).
 */
export function parseBpftraceLine(line: string): BpftraceMessage | undefined {
  const text = line.trim();
  if (text === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Unexpected bpftrace output ${_quote(text)}: not JSON`, {
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError(`Unexpected bpftrace output ${_quote(text)}: not an object`);
  }
  const message = parsed as Record<string, unknown>;
  const type = message.type;
  const data = message.data;
  if (typeof type !== "string") {
    throw new SyntaxError(`Unexpected bpftrace output ${_quote(text)}: no "type"`);
  }
  switch (type) {
    case "attached_probes":
      return { type, probes: Number(_field(data, "probes") ?? 0) };
    case "printf":
      return { type, text: typeof data === "string" ? data : String(data) };
    case "lost_events":
      return { type, events: Number(_field(data, "events") ?? 0) };
    case "map":
    case "hist":
    case "lhist":
    case "stats": {
      if (typeof data !== "object" || data === null) break;
      const [name, value] = Object.entries(data as Record<string, unknown>)[0] ?? [];
      if (name === undefined) break;
      // A keyless map prints its value directly; a keyed one an object of key → value.
      const keyed = typeof value === "object" && value !== null && !Array.isArray(value) &&
        !(type === "stats" && _isStatsValue(value));
      return {
        type: "map",
        format: type,
        name,
        entries: keyed ? value as BpftraceMapData : { "": value },
      };
    }
    case "helper_error":
      return { type, message: text, raw: parsed };
  }
  return { type: "other", kind: type, data };
}

/** A `stats()` value: `{count, average, total}`. */
export interface BpftraceStats {
  readonly count: number;
  readonly average: number;
  readonly total: number;
}

/** The value of a `stats()` map entry, or undefined when it is not one. */
export function asStats(value: unknown): BpftraceStats | undefined {
  if (!_isStatsValue(value)) return undefined;
  const v = value as Record<string, unknown>;
  return { count: Number(v.count), average: Number(v.average), total: Number(v.total) };
}

/** The integers of a map key text: `"0,257,40"` → `[0, 257, 40]`. */
export function mapKeyNumbers(key: string): number[] {
  return key === "" ? [] : key.split(",").map((part) => Number(part.trim()));
}

function _isStatsValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && "count" in value && "total" in value;
}

function _field(data: unknown, name: string): unknown {
  return typeof data === "object" && data !== null
    ? (data as Record<string, unknown>)[name]
    : undefined;
}

function _quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
