/**
 * The tldrs line protocol, as a client speaks it over the collector's unix socket.
 *
 * A client sends `\n`-terminated lines; each is trimmed, then read as one message:
 *
 * | line | message |
 * | --- | --- |
 * | (blank) | ignored |
 * | `OPEN <trace-id>` | later events go to `<dir>/<trace-id>.jsonl` (first message) |
 * | `{"ph":"X",…}` | one TEF event, appended to the open trace |
 * | `EMIT_TEF <abs path>` | write the trace so far, as array-form JSON, to that path |
 * | `EMIT_TEF_AT_EXIT <abs path>` | the same, once the trace's last client has disconnected |
 * | `DIE` | the daemon flushes everything and exits |
 * | `DIE_WHEN_IDLE` | the daemon exits once no client is connected |
 *
 * The daemon never answers. Where tldrs writes any line starting with `{` verbatim, this
 * parser checks it: valid UTF-8, at most `maxLineBytes`, valid JSON, an object with a
 * phase Perfetto imports and the fields that phase needs (the per-event rules of
 * `lib/pipeline/tef/perfetto_rules.ts`; pairing `B`/`E` and nesting slices span events and are left
 * to the reader). A line that fails is an `invalid` message with a reason and a sentence;
 * the connection goes on.
 *
 * @module
 */

import { isAbsolute } from "node:path";
import { checkPerfettoRules, SUPPORTED_PHASES } from "../../pipeline/tef/perfetto_rules.ts";
import { quoteTraceId, traceIdProblem } from "./trace_id.ts";

/** Why a line was rejected; the keys of the collector's `rejected` counters. */
export type RejectReason =
  | "utf8"
  | "too_long"
  | "json"
  | "not_event"
  | "perfetto"
  | "unknown"
  | "trace_id"
  | "relative_path"
  | "no_trace"
  | "memory";

/** Every {@linkcode RejectReason}, in a stable order for reports. */
export const REJECT_REASONS: readonly RejectReason[] = [
  "utf8",
  "too_long",
  "json",
  "not_event",
  "perfetto",
  "unknown",
  "trace_id",
  "relative_path",
  "no_trace",
  "memory",
];

/** One parsed client line. */
export type Message =
  | { readonly type: "empty" }
  | { readonly type: "open"; readonly traceId: string }
  | {
    readonly type: "event";
    /** The trimmed line, written to the trace as is. */
    readonly text: string;
    /** The parsed event. */
    readonly event: Readonly<Record<string, unknown>>;
  }
  | { readonly type: "emit_tef"; readonly path: string }
  | { readonly type: "emit_tef_at_exit"; readonly path: string }
  | { readonly type: "die" }
  | { readonly type: "die_when_idle" }
  | {
    readonly type: "invalid";
    readonly reason: RejectReason;
    /** What is wrong, as the detail of a log line: `not valid JSON: …`. */
    readonly message: string;
  };

/** A line cut from the byte stream by {@linkcode LineFramer}. */
export type Frame =
  /** A whole line, without its `\n`. Valid only until the next `push`: parse it right away. */
  | { readonly line: Uint8Array }
  /** A line longer than the limit, dropped; its length in bytes (at least the limit + 1). */
  | { readonly tooLong: number }
  /** A line dropped while unfinished by {@linkcode LineFramer.cut}; its length in bytes. */
  | { readonly cut: number };

const _NL = 0x0a;

/**
 * Cuts a byte stream into lines on `\n`, holding at most `maxLineBytes` of a line that
 * spans chunks. A longer line is not held: its bytes are skipped up to the next `\n` and
 * it is reported once as `{ tooLong }`, so a client that never sends a newline cannot grow
 * the daemon's memory.
 */
export class LineFramer {
  readonly #max: number;
  #parts: Uint8Array[] = [];
  #held = 0;
  /** Bytes of an over-long line seen so far; -1 while not skipping. */
  #skipped = -1;
  /** The line being skipped was cut, not too long. */
  #cut = false;

  /** Create a framer; lines longer than `maxLineBytes` (without the `\n`) are dropped. */
  constructor(maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`Invalid maxLineBytes "${maxLineBytes}": expected a positive integer`);
    }
    this.#max = maxLineBytes;
  }

  /** Feed a chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(_NL, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#skipped >= 0) {
        this.#skipped += piece.length;
      } else if (this.#held + piece.length > this.#max) {
        this.#skipped = this.#held + piece.length;
        this.#parts = [];
        this.#held = 0;
      } else if (nl !== -1 && this.#held === 0) {
        out.push({ line: piece });
        start = nl + 1;
        continue;
      } else if (piece.length > 0) {
        this.#parts.push(piece.slice());
        this.#held += piece.length;
      }
      if (nl === -1) break;
      out.push(this.#take());
      start = nl + 1;
    }
    return out;
  }

  /** The stream ended: the last line if it had no `\n` (tldrs reads it too), then reset. */
  end(): Frame[] {
    if (this.#skipped < 0 && this.#held === 0) return [];
    return [this.#take()];
  }

  /** Bytes of an unfinished line held or skipped, for "discarded N bytes" messages. */
  get pendingBytes(): number {
    return this.#skipped >= 0 ? this.#skipped : this.#held;
  }

  /** Bytes of an unfinished line held in memory. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * Drop the unfinished line held now (a caller bounding memory across framers): its
   * bytes are freed, the rest of it is skipped, and its end gives a `{ cut }` frame.
   * Returns the bytes freed.
   */
  cut(): number {
    const freed = this.#held;
    if (freed === 0) return 0;
    this.#skipped = freed;
    this.#cut = true;
    this.#parts = [];
    this.#held = 0;
    return freed;
  }

  #take(): Frame {
    let frame: Frame;
    if (this.#skipped >= 0) {
      frame = this.#cut ? { cut: this.#skipped } : { tooLong: this.#skipped };
    } else if (this.#parts.length === 1) {
      frame = { line: this.#parts[0] };
    } else {
      const line = new Uint8Array(this.#held);
      let offset = 0;
      for (const part of this.#parts) {
        line.set(part, offset);
        offset += part.length;
      }
      frame = { line };
    }
    this.#parts = [];
    this.#held = 0;
    this.#skipped = -1;
    this.#cut = false;
    return frame;
  }
}

const _strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parse one frame from {@linkcode LineFramer}; `maxLineBytes` is only used in the message. */
export function parseFrame(frame: Frame, maxLineBytes: number): Message {
  if ("cut" in frame) {
    return {
      type: "invalid",
      reason: "memory",
      message:
        `line of ${frame.cut} bytes cut while unfinished: the unfinished lines of all connections held too much memory`,
    };
  }
  if ("tooLong" in frame) {
    return {
      type: "invalid",
      reason: "too_long",
      message: `line of ${frame.tooLong} bytes is longer than the limit of ${maxLineBytes}`,
    };
  }
  let text: string;
  try {
    text = _strictDecoder.decode(frame.line);
  } catch {
    return { type: "invalid", reason: "utf8", message: "not valid UTF-8" };
  }
  return parseMessage(text);
}

/** Parse one decoded line (with or without surrounding whitespace). */
export function parseMessage(line: string): Message {
  const text = line.trim();
  if (text.length === 0) return { type: "empty" };
  if (text.charCodeAt(0) === 0x7b /* { */) return _parseEvent(text);
  if (text === "DIE") return { type: "die" };
  if (text === "DIE_WHEN_IDLE") return { type: "die_when_idle" };
  const space = text.search(/\s/);
  const word = space === -1 ? text : text.slice(0, space);
  const rest = space === -1 ? "" : text.slice(space).trim();
  switch (word) {
    case "OPEN": {
      const problem = rest.length === 0 ? "OPEN needs a trace id" : traceIdProblem(rest);
      if (problem === undefined) return { type: "open", traceId: rest };
      return {
        type: "invalid",
        reason: "trace_id",
        message: rest.length === 0
          ? 'OPEN needs a trace id: "OPEN <trace-id>"'
          : `refused trace id ${quoteTraceId(rest)}: ${problem}`,
      };
    }
    case "EMIT_TEF":
    case "EMIT_TEF_AT_EXIT": {
      if (!isAbsolute(rest) || rest.includes("\0")) {
        return {
          type: "invalid",
          reason: "relative_path",
          message: rest.length === 0
            ? `${word} needs an absolute path: "${word} /path/to/trace.json"`
            : `${word} needs an absolute path (the daemon does not know the client's working directory), got ${
              JSON.stringify(rest)
            }`,
        };
      }
      return { type: word === "EMIT_TEF" ? "emit_tef" : "emit_tef_at_exit", path: rest };
    }
  }
  return {
    type: "invalid",
    reason: "unknown",
    message: `unknown message ${
      JSON.stringify(preview(text))
    } (expected OPEN, EMIT_TEF, EMIT_TEF_AT_EXIT, DIE, DIE_WHEN_IDLE or a JSON event)`,
  };
}

/** At most `max` characters of `text`, with `…` when cut, for log lines. */
export function preview(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function _parseEvent(text: string): Message {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      type: "invalid",
      reason: "json",
      message: `not valid JSON (${(error as Error).message.replace(/[.\s]+$/, "")}): ${
        preview(text)
      }`,
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { type: "invalid", reason: "not_event", message: "not a TEF event: not an object" };
  }
  const event = value as Record<string, unknown>;
  if (typeof event.ph !== "string") {
    return {
      type: "invalid",
      reason: "not_event",
      message: 'not a TEF event: it has no string "ph"',
    };
  }
  if (!SUPPORTED_PHASES.has(event.ph)) {
    return {
      type: "invalid",
      reason: "perfetto",
      message: `breaks a Perfetto rule: unsupported ph ${JSON.stringify(event.ph)}`,
    };
  }
  const problem = eventRuleProblem(event);
  if (problem !== undefined) {
    return { type: "invalid", reason: "perfetto", message: `breaks a Perfetto rule: ${problem}` };
  }
  return { type: "event", text, event };
}

/**
 * The first per-event Perfetto rule `event` breaks, or `undefined`. Rules that span events
 * (a `B` needs its `E`, slices must nest) are not checked: a `B` or `E` is checked beside
 * a made-up partner at the same place and time, and only its own violations count.
 */
export function eventRuleProblem(event: Readonly<Record<string, unknown>>): string | undefined {
  let events: unknown[];
  let index = 0;
  if (event.ph === "B") {
    events = [event, { ph: "E", pid: event.pid, tid: event.tid, ts: event.ts }];
  } else if (event.ph === "E") {
    events = [{ ph: "B", name: "-", pid: event.pid, tid: event.tid, ts: event.ts }, event];
    index = 1;
  } else {
    events = [event];
  }
  const prefix = `event ${index}: `;
  for (const violation of checkPerfettoRules(events, { limit: 10 })) {
    if (violation.startsWith(prefix)) return violation.slice(prefix.length);
  }
  return undefined;
}
