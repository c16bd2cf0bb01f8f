/**
 * Log events → metric events, from `{{name}}` and `{{name:value}}` markers in the text.
 *
 * A service counts things by printing `{{requests}}` and reports values by printing
 * `{{temperature:41.5}}`; {@linkcode MarkerExtractor} turns each marker into a
 * {@linkcode MetricEvent} and leaves the log event itself untouched.
 *
 * @module
 */

import type { LogEvent, MetricEvent } from "../event.ts";

/** One marker found in a text: `value` is absent for a `{{name}}` increment. */
export interface Marker {
  /** The counter or value name. */
  name: string;
  /** The value of a `{{name:value}}` marker, trimmed. */
  value?: string;
}

const MAX_NAME = 128;
const MAX_VALUE = 1024;
// Looked at before trimming, so a long stretch between `{{a:` and `}}` costs little.
const MAX_RAW_VALUE = 2 * MAX_VALUE;
const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
// Plain decimal only (sign, fraction, exponent): JavaScript's Number() would also take
// "0x10", "0b1", "Infinity" and "" (as 0), which in a log are ids, words or nothing.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Find the markers in `text`, in order.
 *
 * - `{{name}}` and `{{name:value}}`; names match `[A-Za-z_][A-Za-z0-9_.-]*`, at most 128
 *   characters.
 * - No whitespace inside the braces around the name: `{{ a }}` and `{{a :1}}` are plain
 *   text, so template syntax a service logs (Go, Jinja, Handlebars write `{{ .Name }}`)
 *   is not counted. Whitespace around a value is allowed and trimmed: `{{t: 41 }}` sets
 *   `"41"`.
 * - Values are non-empty after trimming, at most 1024 characters, and contain no `}}`
 *   (the first `}}` closes the marker), no `{{` and no newline: in `{{a:x {{b}}`, the
 *   unclosed `{{a:x ` is plain text and `{{b}}` counts.
 * - Anything malformed (`{{}}`, `{{a:}}`, `{{:1}}`, `{{a b}}`, an unclosed `{{a`) is plain
 *   text; scanning resumes at the next `{{` inside it, so `{{{a}}}` counts `a`.
 */
export function findMarkers(text: string): Marker[] {
  const found: Marker[] = [];
  let open = text.indexOf("{{");
  // The first "}}" at or after open + 2; reused while it stays ahead, so the scan is linear.
  let close = -1;
  while (open !== -1) {
    if (close < open + 2) {
      close = text.indexOf("}}", open + 2);
      if (close === -1) break; // nothing after this point can close a marker
    }
    const marker = _markerAt(text, open + 2, close);
    if (marker) {
      found.push(marker);
      open = text.indexOf("{{", close + 2);
    } else {
      open = text.indexOf("{{", open + 1);
    }
  }
  return found;
}

/** The marker whose inside is `text[from..close)`, or undefined when it is malformed. */
function _markerAt(text: string, from: number, close: number): Marker | undefined {
  NAME.lastIndex = from;
  if (!NAME.test(text)) return undefined;
  const end = NAME.lastIndex; // never past `close`: names hold no "}"
  if (end - from > MAX_NAME) return undefined;
  if (end === close) return { name: text.slice(from, end) };
  if (text.charCodeAt(end) !== 0x3a /* : */ || close - end - 1 > MAX_RAW_VALUE) return undefined;
  const raw = text.slice(end + 1, close);
  if (raw.indexOf("\n") !== -1 || raw.indexOf("{{") !== -1) return undefined;
  const value = raw.trim();
  if (value === "" || value.length > MAX_VALUE) return undefined;
  return { name: text.slice(from, end), value };
}

/**
 * The number a `{{name:value}}` value stands for: plain decimal literals only
 * (`"42.5"`, `"-3"`, `"1e3"`, `".5"`); `"abc"`, `"0x10"`, `"Infinity"` and overflowing
 * literals give undefined.
 */
export function parseMarkerNumber(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Turns markers in log events into metric events, keeping a running total per counter.
 *
 * `{{name}}` gives op `"incr"`, value `"1"` and `numeric` = the total after the
 * increment. `{{name:value}}` gives op `"set"` with the value as written (trimmed) and
 * `numeric` when it is a decimal number (see {@linkcode parseMarkerNumber}). A numeric
 * set also becomes the counter's total, and a non-numeric one clears it, as an `INCR`
 * after a `SET` of the same Redis key would behave: `{{jobs:10}}` then `{{jobs}}` gives 11.
 *
 * Use one extractor for both output streams of a service, so their counts add up.
 */
export class MarkerExtractor {
  readonly #totals = new Map<string, number>();

  /** The metric events for the markers in `event.text`, in order; the event is not modified. */
  extract(event: LogEvent): MetricEvent[] {
    // Fast path: almost every line has no marker, and this costs no regex work.
    if (event.text.indexOf("{{") === -1) return [];
    const metrics: MetricEvent[] = [];
    for (const { name, value } of findMarkers(event.text)) {
      if (value === undefined) {
        const total = (this.#totals.get(name) ?? 0) + 1;
        this.#totals.set(name, total);
        metrics.push({
          kind: "metric",
          time: event.time,
          stream: event.stream,
          name,
          op: "incr",
          value: "1",
          numeric: total,
        });
      } else {
        const numeric = parseMarkerNumber(value);
        const base = {
          kind: "metric",
          time: event.time,
          stream: event.stream,
          name,
          op: "set",
          value,
        } as const;
        if (numeric === undefined) {
          this.#totals.delete(name);
          metrics.push(base);
        } else {
          this.#totals.set(name, numeric);
          metrics.push({ ...base, numeric });
        }
      }
    }
    return metrics;
  }

  /** The running total of counter `name` (0 when it was never incremented). */
  total(name: string): number {
    return this.#totals.get(name) ?? 0;
  }
}
