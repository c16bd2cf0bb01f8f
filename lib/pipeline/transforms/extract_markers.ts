/**
 * Log events → metric events, from `{{name}}` and `{{name:value}}` markers in the text.
 *
 * A service counts things by printing `{{requests}}` and reports values by printing
 * `{{temperature:41.5}}`; {@linkcode MarkerExtractor} turns each marker into a
 * {@linkcode MetricEvent} and leaves the log event itself untouched.
 *
 * Two grammars: wrapp's own (the default, see {@linkcode findMarkers}) and the Go
 * wrapp's, `\{\{(\w+):?(\d*)\}\}`, for the `go` Redis layout, whose consumers expect
 * exactly the keys the Go wrapp wrote ({@linkcode removeGoMarkers} takes them out of the
 * text as it did).
 *
 * @module
 */

import type { LogEvent, MetricEvent } from "../../core/event.ts";

/**
 * Which markers count: `wrapp` (ours: names with `.` and `-`, any value) or `go` (the Go
 * wrapp's: `\w` names, digit values only).
 */
export type MarkerGrammar = "wrapp" | "go";

/** Options of {@linkcode findMarkers} and {@linkcode MarkerExtractor}. */
export interface MarkerOptions {
  /** The marker grammar. Default `"wrapp"`. */
  grammar?: MarkerGrammar;
}

/** Options of {@linkcode MarkerExtractor}. */
export interface MarkerExtractorOptions extends MarkerOptions {
  /**
   * Most names whose running total is remembered (at least 2); the least recently used are
   * forgotten beyond. Default {@linkcode DEFAULT_MAX_MARKER_NAMES}.
   */
  maxNames?: number;
  /** Called once, when totals are forgotten for the first time, with how many. */
  onFirstForget?: (count: number) => void;
}

/** The default {@linkcode MarkerExtractorOptions.maxNames}: a few MiB at most. */
export const DEFAULT_MAX_MARKER_NAMES = 10_000;

/** One marker found in a text: `value` is absent for a `{{name}}` increment. */
export interface Marker {
  /** The counter or value name. */
  name: string;
  /** The value of a `{{name:value}}` marker, trimmed. */
  value?: string;
}

/**
 * How much of a split line's end {@linkcode MarkerExtractor} keeps to count a marker cut
 * by the split: more than the longest marker of wrapp's grammar (`{{`, a 128-character
 * name, `:`, a 2048-character raw value, `}}`).
 */
export const MARKER_CARRY_CHARS = 4096;

const MAX_NAME = 128;
const MAX_VALUE = 1024;
// Looked at before trimming, so a long stretch between `{{a:` and `}}` costs little.
const MAX_RAW_VALUE = 2 * MAX_VALUE;
const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
// Plain decimal only (sign, fraction, exponent): JavaScript's Number() would also take
// "0x10", "0b1", "Infinity" and "" (as 0), which in a log are ids, words or nothing.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Find the markers in `text`, in order, in the grammar of `options.grammar`.
 *
 * The `go` grammar is the Go wrapp's regular expression `\{\{(\w+):?(\d*)\}\}`
 * (`\w` = `[0-9A-Za-z_]`): `{{name}}` and `{{name:}}` increment, `{{name:007}}` sets
 * `"007"`; `{{name:abc}}`, `{{a.b}}` and `{{z:1.5}}` are plain text; no length limits.
 *
 * The `wrapp` grammar (default):
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
export function findMarkers(text: string, options: MarkerOptions = {}): Marker[] {
  return _matches(text, options.grammar ?? "wrapp").map(({ marker }) => marker);
}

/** A marker found in a text, and where: `text.slice(start, end)` is `{{…}}`. */
interface _Match {
  start: number;
  end: number;
  marker: Marker;
}

function _matches(text: string, grammar: MarkerGrammar): _Match[] {
  return grammar === "go" ? _goMatches(text) : _wrappMatches(text);
}

/** The markers of wrapp's grammar in `text`, in order (see {@linkcode findMarkers}). */
function _wrappMatches(text: string): _Match[] {
  const found: _Match[] = [];
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
      found.push({ start: open, end: close + 2, marker });
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
 * `text` without its Go-grammar markers, as the Go wrapp logged it: every match of
 * `\{\{(\w+):?(\d*)\}\}` removed, nothing else changed (`"a {{n}} b"` → `"a  b"`).
 */
export function removeGoMarkers(text: string): string {
  if (text.indexOf("{{") === -1) return text;
  const matches = _goMatches(text);
  if (matches.length === 0) return text;
  let out = "";
  let from = 0;
  for (const { start, end } of matches) {
    out += text.slice(from, start);
    from = end;
  }
  return out + text.slice(from);
}

/**
 * The leftmost-first, non-overlapping matches of `\{\{(\w+):?(\d*)\}\}`, found in one
 * pass. A JavaScript RegExp of that pattern backtracks quadratically on `{{` followed by
 * a long run of digits; Go's RE2 does not, and neither does this. Since `\d` is within
 * `\w`, the only way to match at a `{{` is the longest name, then `}}`, or `:`, the
 * longest run of digits, and `}}`.
 */
function _goMatches(text: string): _Match[] {
  const found: _Match[] = [];
  let open = text.indexOf("{{");
  while (open !== -1) {
    let at = open + 2;
    while (at < text.length && _isWord(text.charCodeAt(at))) at++;
    const name = text.slice(open + 2, at);
    let value = "";
    if (name !== "" && text.charCodeAt(at) === 0x3a /* : */) {
      const digits = ++at;
      while (at < text.length && _isDigit(text.charCodeAt(at))) at++;
      value = text.slice(digits, at);
    }
    if (name !== "" && text.startsWith("}}", at)) {
      found.push({ start: open, end: at + 2, marker: value === "" ? { name } : { name, value } });
      open = text.indexOf("{{", at + 2);
    } else {
      open = text.indexOf("{{", open + 1);
    }
  }
  return found;
}

function _isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function _isWord(code: number): boolean {
  return _isDigit(code) || code === 0x5f || (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a);
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

// What a line without markers yields: one frozen array, not one per line.
const _NONE: readonly MetricEvent[] = Object.freeze([]);

/**
 * Turns markers in log events into metric events, keeping a running total per counter.
 *
 * `{{name}}` gives op `"incr"`, value `"1"` and `numeric` = the total after the
 * increment. `{{name:value}}` gives op `"set"` with the value as written (trimmed) and
 * `numeric` when it is a decimal number (see {@linkcode parseMarkerNumber}). A numeric
 * set also becomes the counter's total, and a non-numeric one clears it, as an `INCR`
 * after a `SET` of the same Redis key would behave: `{{jobs:10}}` then `{{jobs}}` gives 11.
 *
 * In the `go` grammar `{{name:}}` is an increment too, and a set's value is digits
 * (`{{n:007}}`: value `"007"`, `numeric` 7).
 *
 * Use one extractor for both output streams of a service, so their counts add up.
 *
 * A line longer than `max_line_bytes` arrives in parts (`event.split`): a marker cut in
 * two by that split is counted with the part where it ends, as if the line were whole.
 * The extractor keeps the last {@linkcode MARKER_CARRY_CHARS} characters of each stream's
 * unfinished line for that, which holds any marker of wrapp's grammar; a Go-grammar
 * marker longer than that (a name of thousands of characters) is not seen across a cut.
 *
 * Memory is bounded: at most `maxNames` totals are kept (a service that puts ids in its
 * marker names would otherwise grow it forever). Past that, the totals of the least
 * recently used names are forgotten and counted ({@linkcode MarkerExtractor.forgotten});
 * a name used among the last `maxNames / 2` distinct names is always kept. Should a
 * forgotten name come back, its counter starts again from 1. Every marker still becomes
 * a metric event.
 *
 * @example Counters and values in a line
 * ```ts
 * import assert from "node:assert/strict";
 * import { MarkerExtractor } from "@wrapp/wrapp";
 *
 * const extractor = new MarkerExtractor();
 * const metrics = extractor.extract({
 *   kind: "log",
 *   time: 0,
 *   stream: "stdout",
 *   text: "done {{jobs}} in {{ms:12.5}}",
 * });
 * assert.deepEqual(metrics.map((m) => [m.name, m.op, m.numeric]), [
 *   ["jobs", "incr", 1],
 *   ["ms", "set", 12.5],
 * ]);
 * ```
 */
export class MarkerExtractor {
  // Two generations instead of a strict LRU: a name used in `#recent` stays; when
  // `#recent` is full, `#old` (names unused for a whole generation) is forgotten at once.
  // Re-inserting a key on each use (the usual Map LRU) costs V8 a hash chain of deleted
  // entries: 300,000 names took 50 s instead of 1.
  #recent = new Map<string, number>();
  #old = new Map<string, number>();
  readonly #options: Required<MarkerOptions>;
  readonly #generation: number;
  readonly #onFirstForget?: (count: number) => void;
  #forgotten = 0;
  // Per stream: the end of the line being split, while its next part is to come.
  readonly #carry = new Map<LogEvent["stream"], string>();

  /** An extractor of markers in `options.grammar` (default `"wrapp"`). */
  constructor(options: MarkerExtractorOptions = {}) {
    this.#options = { grammar: options.grammar ?? "wrapp" };
    const maxNames = options.maxNames ?? DEFAULT_MAX_MARKER_NAMES;
    if (!Number.isSafeInteger(maxNames) || maxNames < 2) {
      throw new RangeError(`Invalid maxNames "${maxNames}": expected an integer of at least 2`);
    }
    this.#generation = Math.floor(maxNames / 2);
    this.#onFirstForget = options.onFirstForget;
  }

  /** Totals forgotten so far because more than `maxNames` names were in use. */
  get forgotten(): number {
    return this.#forgotten;
  }

  /** How many names have a total remembered now. */
  get names(): number {
    return this.#recent.size + this.#old.size;
  }

  /** The metric events for the markers in `event.text`, in order; the event is not modified. */
  extract(event: LogEvent): readonly MetricEvent[] {
    const markers = event.split || this.#carry.size > 0 ? this.#acrossParts(event) : undefined;
    // Fast path: almost every line has no marker, and this costs no regex work.
    if (event.text.indexOf("{{") === -1 && !markers?.length) return _NONE;
    const metrics: MetricEvent[] = [];
    for (const { name, value } of [...markers ?? [], ...findMarkers(event.text, this.#options)]) {
      if (value === undefined) {
        const total = this.total(name) + 1;
        this.#remember(name, total);
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
          this.#remember(name, 0); // no total: the next increment gives 1
          metrics.push(base);
        } else {
          this.#remember(name, numeric);
          metrics.push({ ...base, numeric });
        }
      }
    }
    return metrics;
  }

  /**
   * The markers cut by the split before this part (they end in it), and remember the end
   * of the line for the next part.
   */
  #acrossParts(event: LogEvent): Marker[] {
    const split = event.split;
    const carry = split && split.part > 1 ? this.#carry.get(event.stream) : undefined;
    this.#carry.delete(event.stream);
    if (!split) return [];
    let found: Marker[] = [];
    const joined = carry === undefined ? event.text : carry + event.text;
    if (carry !== undefined && carry.indexOf("{") !== -1) {
      const cut = carry.length;
      found = _matches(joined, this.#options.grammar)
        .filter(({ start, end }) => start < cut && end > cut)
        .map(({ marker }) => marker);
    }
    if (!split.last) this.#carry.set(event.stream, joined.slice(-MARKER_CARRY_CHARS));
    return found;
  }

  #remember(name: string, total: number): void {
    if (!this.#recent.has(name)) this.#old.delete(name); // each name leaves #old once
    this.#recent.set(name, total);
    if (this.#recent.size < this.#generation) return;
    const count = this.#old.size;
    this.#old = this.#recent;
    this.#recent = new Map();
    if (count === 0) return;
    if (this.#forgotten === 0) this.#onFirstForget?.(count);
    this.#forgotten += count;
  }

  /** The running total of counter `name` (0 when it was never incremented, or forgotten). */
  total(name: string): number {
    return this.#recent.get(name) ?? this.#old.get(name) ?? 0;
  }
}
