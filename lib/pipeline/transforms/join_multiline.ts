/**
 * Lines → log events, joining `>>|` … `|<<` blocks into one event.
 *
 * A service marks output that belongs together (a stack trace, a table, a config dump)
 * with an opening and a closing delimiter; {@linkcode MultilineJoiner} turns the block
 * into a single {@linkcode LogEvent} and every other line into its own event.
 *
 * @module
 */

import type { LogEvent, OutputStream } from "../../core/event.ts";
import type { SplitLine } from "./split_lines.ts";
import { utf8Length } from "../../core/utf8_length.ts";

/** Options of {@linkcode MultilineJoiner}. */
export interface MultilineJoinerOptions {
  /** Token that opens a block. Default `">>|"`. */
  start?: string;
  /** Token that closes a block. Default `"|<<"`. */
  end?: string;
  /** Source lines (delimiter lines included) after which an unclosed block is flushed as unterminated `"lines"`. Default 1000. */
  maxLines?: number;
  /** UTF-8 bytes of joined text a block may hold; a line that would go past it flushes the block as unterminated `"bytes"`. Default 1048576. */
  maxBytes?: number;
  /** Milliseconds after its opening line at which an unclosed block is flushed as unterminated `"time"`. Default 5000. */
  timeoutMs?: number;
}

/**
 * Joins multi-line blocks; every other line becomes its own {@linkcode LogEvent}.
 *
 * - A line containing `start` opens a block; text before the opener on that line stays
 *   in the block. The line containing `end` closes it; text after the closer on that
 *   line also stays in the block, and does not open another one.
 * - `start` and `end` on one line make a one-line block.
 * - The event's `text` is the block's lines joined with `"\n"`, with the delimiter
 *   tokens removed; a line left empty or whitespace-only by removing a token is dropped.
 *   Only the token is removed, so indentation after an opener survives. `lines` counts
 *   source lines, delimiter lines included; `time` is the opening line's.
 * - No nesting: a `start` inside an open block is plain content, and the first `end`
 *   closes the block. Nested openers are far more often literal text (a log line that
 *   quotes the delimiters) than intent, and counting depth would let one stray opener
 *   hold all later output until a limit.
 * - An `end` with no open block is plain text.
 * - Split parts of an over-long line are lines like any other: inside a block they are
 *   content, outside they keep their `split` field.
 *
 * Limits (`maxLines`, `maxBytes`, `timeoutMs`) flush an unclosed block with
 * `unterminated` set, and the lines after it are plain lines again until the next
 * opener. The usual reason a limit is hit is a closer that never comes (the program
 * crashed mid-block, or printed an opener by accident); continuing with a new block
 * would then swallow all later output into blocks and delay every line until the next
 * limit. Falling back to plain lines keeps later output flowing line by line, loses
 * nothing, and the late closer, if any, shows up as a plain `|<<` line next to the
 * `unterminated` event, which says what happened.
 *
 * Every method that receives a clock reading first flushes a block that has been open
 * for `timeoutMs` or longer, so the result does not depend on how often
 * {@linkcode MultilineJoiner.tick} runs.
 *
 * @example A block between >>| and |<< becomes one event
 * ```ts
 * import assert from "node:assert/strict";
 * import { MultilineJoiner } from "@wrapp/wrapp";
 *
 * const joiner = new MultilineJoiner("stderr");
 * assert.deepEqual(joiner.push({ text: ">>|" }, 0), []);
 * assert.deepEqual(joiner.push({ text: "Traceback:" }, 1), []);
 * assert.deepEqual(joiner.push({ text: "  ValueError" }, 2), []);
 * const [block] = joiner.push({ text: "|<<" }, 3);
 * assert.equal(block.text, "Traceback:\n  ValueError");
 * assert.equal(block.lines, 4);
 * assert.deepEqual(joiner.push({ text: "plain" }, 4).map((event) => event.text), ["plain"]);
 * ```
 */
export class MultilineJoiner {
  readonly #stream: OutputStream;
  readonly #start: string;
  readonly #end: string;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  #open = false;
  #time = 0;
  #texts: string[] = [];
  #lines = 0;
  #bytes = 0;

  /** Join blocks of lines read from `stream`; see {@linkcode MultilineJoinerOptions} for the defaults. */
  constructor(stream: OutputStream, options: MultilineJoinerOptions = {}) {
    this.#stream = stream;
    this.#start = _token("start", options.start ?? ">>|");
    this.#end = _token("end", options.end ?? "|<<");
    this.#maxLines = _positiveInteger("maxLines", options.maxLines ?? 1000);
    this.#maxBytes = _positiveInteger("maxBytes", options.maxBytes ?? 1048576);
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new RangeError(`Invalid timeoutMs "${timeoutMs}": expected a number of at least 0`);
    }
    this.#timeoutMs = timeoutMs;
  }

  /** Whether a block is open (lines are being held). */
  get open(): boolean {
    return this.#open;
  }

  /**
   * When the open block reaches its time limit (the clock of `push`), or `undefined`
   * when no block is open: a caller arms one timer for it instead of polling
   * {@linkcode MultilineJoiner.tick}.
   */
  get deadline(): number | undefined {
    return this.#open ? this.#time + this.#timeoutMs : undefined;
  }

  /**
   * Take one line read at `time`; returns `out` with the events it completes appended (none
   * while a block stays open). A caller passing one `out` for a whole chunk spares an array
   * per line.
   */
  push(line: SplitLine, time: number, out: LogEvent[] = []): LogEvent[] {
    if (this.#open && time - this.#time >= this.#timeoutMs) out.push(this.#flush("time"));
    this.#take(line, time, out);
    return out;
  }

  /** Called at (or after) {@linkcode MultilineJoiner.deadline}: flushes a block open for `timeoutMs` or longer at `now` as unterminated `"time"`. */
  tick(now: number): LogEvent[] {
    if (this.#open && now - this.#time >= this.#timeoutMs) return [this.#flush("time")];
    return [];
  }

  /**
   * The stream ended at `time`: flushes an open block as unterminated `"exit"` (or
   * `"time"` when it was already past its timeout and no tick flushed it).
   */
  end(time: number): LogEvent[] {
    if (!this.#open) return [];
    return [this.#flush(time - this.#time >= this.#timeoutMs ? "time" : "exit")];
  }

  #take(line: SplitLine, time: number, out: LogEvent[]): void {
    const text = line.text;
    if (!this.#open) {
      const i = text.indexOf(this.#start);
      if (i === -1) {
        out.push(
          line.split
            ? { kind: "log", stream: this.#stream, text, time, split: line.split }
            : { kind: "log", stream: this.#stream, text, time },
        );
        return;
      }
      this.#open = true;
      this.#time = time;
      const before = text.slice(0, i);
      const after = text.slice(i + this.#start.length);
      const j = after.indexOf(this.#end);
      if (j === -1) this.#add(before + after, false, line, time, out);
      else {this.#add(
          before + after.slice(0, j) + after.slice(j + this.#end.length),
          true,
          line,
          time,
          out,
        );}
      return;
    }
    const j = text.indexOf(this.#end);
    if (j === -1) this.#addContent(text, line, time, out);
    else this.#add(text.slice(0, j) + text.slice(j + this.#end.length), true, line, time, out);
  }

  /** Add a line from which a delimiter was removed: dropped when that left only whitespace. */
  #add(content: string, closes: boolean, line: SplitLine, time: number, out: LogEvent[]): void {
    if (content.trim() === "") {
      this.#lines++;
      this.#afterLine(closes, out);
    } else {
      this.#addContent(content, line, time, out, closes);
    }
  }

  #addContent(
    content: string,
    line: SplitLine,
    time: number,
    out: LogEvent[],
    closes = false,
  ): void {
    const bytes = (this.#texts.length > 0 ? 1 : 0) + utf8Length(content);
    if (this.#texts.length > 0 && this.#bytes + bytes > this.#maxBytes) {
      // Keep the block within maxBytes: flush it without this line, which then starts
      // afresh as the first line after an unterminated block.
      out.push(this.#flush("bytes"));
      this.#take(line, time, out);
      return;
    }
    this.#texts.push(content);
    this.#bytes += bytes;
    this.#lines++;
    this.#afterLine(closes, out);
  }

  #afterLine(closes: boolean, out: LogEvent[]): void {
    if (closes) out.push(this.#flush(undefined));
    else if (this.#lines >= this.#maxLines) out.push(this.#flush("lines"));
    // Only a block whose first content line alone is too big gets here.
    else if (this.#bytes > this.#maxBytes) out.push(this.#flush("bytes"));
  }

  #flush(unterminated: LogEvent["unterminated"]): LogEvent {
    const base = {
      kind: "log",
      stream: this.#stream,
      text: this.#texts.join("\n"),
      time: this.#time,
      lines: this.#lines,
    } as const;
    this.#open = false;
    this.#texts = [];
    this.#lines = 0;
    this.#bytes = 0;
    return unterminated ? { ...base, unterminated } : base;
  }
}

function _token(name: string, value: string): string {
  if (typeof value !== "string" || value === "") {
    throw new RangeError(`Invalid ${name} delimiter "${value}": expected a non-empty string`);
  }
  return value;
}

function _positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name} "${value}": expected a positive integer`);
  }
  return value;
}
