/**
 * Bytes → lines: the hot path of every supervised service's output.
 *
 * {@linkcode LineSplitter} cuts a byte stream on `\n` (dropping a `\r` before it), joins
 * lines that arrive across any number of chunks, and bounds memory by emitting a line
 * longer than `maxLineBytes` in parts cut on UTF-8 character boundaries.
 * {@linkcode decodeVisible} decodes UTF-8 and keeps invalid bytes visible as `\xNN`.
 *
 * @module
 */

/**
 * One line (or one part of an over-long line), without its line terminator.
 *
 * @example An over-long line, in parts
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter, type SplitLine } from "@wrapp/wrapp";
 *
 * const splitter = new LineSplitter({ maxLineBytes: 4 });
 * const parts: SplitLine[] = splitter.push(new TextEncoder().encode("abcdef\n"));
 * assert.deepEqual(parts, [
 *   { text: "abcd", split: { part: 1, last: false } },
 *   { text: "ef", split: { part: 2, last: true } },
 * ]);
 * ```
 */
export interface SplitLine {
  /** The decoded text; invalid UTF-8 bytes appear as `\xNN`. */
  text: string;
  /** Set only when the line was longer than `maxLineBytes`: 1-based part number, and whether it is the last part. */
  split?: { part: number; last: boolean };
}

/** Options of {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line, in bytes without the terminator, emitted as one piece; longer lines are cut into parts. Default 65536. */
  maxLineBytes?: number;
}

const NL = 10;
const CR = 13;
const REPLACEMENT = "\uFFFD";

// One decoder for everything. `ignoreBOM: true` keeps a U+FEFF at the start of a line:
// otherwise whether it survives would depend on whether the line started a decode call.
const _decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decode UTF-8, keeping invalid bytes visible as `\xNN` (lowercase hex, one per byte)
 * instead of U+FFFD. A real U+FFFD in valid input stays U+FFFD.
 */
export function decodeVisible(bytes: Uint8Array): string {
  const text = _decoder.decode(bytes);
  // Fast path: the decoder replaced nothing (and the input holds no real U+FFFD either).
  if (text.indexOf(REPLACEMENT) === -1) return text;
  return _decodeExact(bytes);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts no valid sequence (Unicode table 3-7). */
function _validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  const n = bytes.length;
  if (b0 < 0xc2) return 0; // continuation byte, or overlong C0/C1 lead
  if (b0 < 0xe0) return i + 1 < n && (bytes[i + 1] & 0xc0) === 0x80 ? 2 : 0;
  if (b0 < 0xf0) {
    if (i + 2 >= n) return 0;
    const b1 = bytes[i + 1];
    // E0 needs A0..BF (no overlongs), ED needs 80..9F (no surrogates).
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return b1 >= lo && b1 <= hi && (bytes[i + 2] & 0xc0) === 0x80 ? 3 : 0;
  }
  if (b0 < 0xf5) {
    if (i + 3 >= n) return 0;
    const b1 = bytes[i + 1];
    // F0 needs 90..BF (no overlongs), F4 needs 80..8F (nothing above U+10FFFF).
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return b1 >= lo && b1 <= hi && (bytes[i + 2] & 0xc0) === 0x80 &&
        (bytes[i + 3] & 0xc0) === 0x80
      ? 4
      : 0;
  }
  return 0;
}

/** The slow, exact path of {@linkcode decodeVisible}: decode valid runs, escape every other byte. */
function _decodeExact(bytes: Uint8Array): string {
  let out = "";
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const len = _validSequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (runStart < i) out += _decoder.decode(bytes.subarray(runStart, i));
    out += "\\x" + (bytes[i] < 0x10 ? "0" : "") + bytes[i].toString(16);
    i++;
    runStart = i;
  }
  if (runStart < bytes.length) out += _decoder.decode(bytes.subarray(runStart));
  return out;
}

/**
 * Where to end a part of at most `limit - from` bytes taken from `bytes[from..]`: at
 * `limit`, unless that would cut a valid-looking multibyte sequence, then just before
 * its lead byte. Only bytes before `limit` are looked at. Invalid bytes (no lead within
 * three bytes, a sequence that cannot reach `limit`) are cut anywhere: they decode to
 * the same `\xNN` escapes either way. Always returns more than `from`, so a tiny
 * `maxLineBytes` still makes progress.
 */
function _cutPoint(bytes: Uint8Array, from: number, limit: number): number {
  let i = limit - 1;
  const stop = Math.max(from, limit - 4);
  while (i > stop && (bytes[i] & 0xc0) === 0x80) i--;
  const lead = bytes[i];
  const need = lead >= 0xf0 ? (lead < 0xf5 ? 4 : 1) : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1;
  return need > 1 && i + need > limit && i > from ? i : limit;
}

/**
 * Splits a byte stream into lines.
 *
 * - Lines end at `\n`; one `\r` right before it is dropped (`\r\n` even across chunks).
 * - A line may arrive in any number of chunks; at most `maxLineBytes` of it are held.
 * - A line longer than `maxLineBytes` is emitted as parts of at most `maxLineBytes`
 *   bytes, each cut on a UTF-8 character boundary, marked `split: { part, last }`.
 * - Empty lines are emitted as empty strings.
 * - {@linkcode LineSplitter.end} emits a final line that had no newline.
 *
 * @example Lines across chunks
 * ```ts
 * import { LineSplitter } from "@wrapp/wrapp";
 *
 * const splitter = new LineSplitter();
 * splitter.push(new TextEncoder().encode("a\r\nb")); // [{ text: "a" }]
 * splitter.end(); // [{ text: "b" }]
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  // A line of at most this many UTF-16 units is at most `#max` UTF-8 bytes (3 bytes per unit at most).
  readonly #maxUnits: number;
  // The partial line: `#buf[0..#len]`. Holds at most `#max` bytes, plus a trailing `\r`
  // that may turn out to be the first half of the terminator.
  #buf = new Uint8Array(0);
  #len = 0;
  // Parts of the current line already emitted.
  #parts = 0;

  /** Create a splitter; `maxLineBytes` (default 65536) bounds a line before it is cut into parts. */
  constructor(options: LineSplitterOptions = {}) {
    const max = options.maxLineBytes ?? 65536;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`Invalid maxLineBytes "${max}": expected a positive integer`);
    }
    this.#max = max;
    this.#maxUnits = Math.floor(max / 3);
  }

  /** Feed a chunk; returns the lines it completed (and parts of over-long lines), in order. */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    const n = chunk.length;
    let a = 0;
    if (this.#len > 0 || this.#parts > 0) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.#append(chunk, 0, n, out);
        return out;
      }
      this.#line(chunk, 0, nl, out);
      a = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= a) {
      this.#run(chunk, a, last, out);
      a = last + 1;
    }
    if (a < n) this.#append(chunk, a, n, out);
    return out;
  }

  /** The stream ended: emit the final line if it had no newline (a trailing `\r` is dropped), and reset. */
  end(): SplitLine[] {
    if (this.#len === 0 && this.#parts === 0) return [];
    let len = this.#len;
    if (len > 0 && this.#buf[len - 1] === CR) len--;
    const text = decodeVisible(this.#buf.subarray(0, len));
    const line: SplitLine = this.#parts > 0
      ? { text, split: { part: this.#parts + 1, last: true } }
      : { text };
    this.#len = 0;
    this.#parts = 0;
    return [line];
  }

  /**
   * Complete lines `chunk[a..e)` separated by `\n` (`e` is the last newline), with no
   * partial line pending. Decodes them with one call and splits the string, which is
   * several times cheaper than a decode per line; falls back to the exact per-line path
   * when some byte was invalid or some line may exceed the limit.
   */
  #run(chunk: Uint8Array, a: number, e: number, out: SplitLine[]): void {
    const text = _decoder.decode(chunk.subarray(a, e));
    if (text.indexOf(REPLACEMENT) === -1) {
      const lines = text.split("\n");
      let fits = e - a <= this.#max;
      if (!fits) {
        fits = true;
        const maxUnits = this.#maxUnits;
        for (let i = 0; i < lines.length; i++) {
          if (lines[i].length > maxUnits) {
            fits = false;
            break;
          }
        }
      }
      if (fits) {
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i];
          out.push({
            text: line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line,
          });
        }
        return;
      }
    }
    while (a <= e) {
      const nl = chunk.indexOf(NL, a);
      this.#line(chunk, a, nl, out);
      a = nl + 1;
    }
  }

  /** Complete the current line with `chunk[a..nl)` (`nl` is its newline) and emit it. */
  #line(chunk: Uint8Array, a: number, nl: number, out: SplitLine[]): void {
    let b = nl;
    if (b > a) {
      if (chunk[b - 1] === CR) b--;
    } else if (this.#len > 0 && this.#buf[this.#len - 1] === CR) {
      this.#len--;
    }
    if (this.#len + (b - a) > this.#max) a = this.#cut(chunk, a, b, false, out);
    let text: string;
    if (this.#len === 0) {
      text = decodeVisible(chunk.subarray(a, b));
    } else {
      this.#ensure(this.#len + b - a);
      this.#buf.set(chunk.subarray(a, b), this.#len);
      text = decodeVisible(this.#buf.subarray(0, this.#len + b - a));
    }
    out.push(this.#parts > 0 ? { text, split: { part: this.#parts + 1, last: true } } : { text });
    this.#len = 0;
    this.#parts = 0;
  }

  /** Add `chunk[a..b)`, which holds no newline, to the partial line, emitting parts when it outgrows the limit. */
  #append(chunk: Uint8Array, a: number, b: number, out: SplitLine[]): void {
    if (this.#len + (b - a) > this.#max) a = this.#cut(chunk, a, b, true, out);
    const need = this.#len + (b - a);
    this.#ensure(need);
    this.#buf.set(chunk.subarray(a, b), this.#len);
    this.#len = need;
  }

  /** Make room for `need` bytes of partial line. */
  #ensure(need: number): void {
    if (need <= this.#buf.length) return;
    // Grow geometrically up to the limit (+1 for a held `\r`), so a large limit costs memory only when used.
    const grown = new Uint8Array(
      Math.min(this.#max + 1, Math.max(need, this.#buf.length * 2, 256)),
    );
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  /**
   * Emit parts while the partial line plus `chunk[a..b)` exceeds the limit; returns how
   * far into the chunk was consumed. With `holdCR`, a line exactly one byte over whose
   * last byte is `\r` is kept: the `\r` may be half of a `\r\n` still to come.
   */
  #cut(chunk: Uint8Array, a: number, b: number, holdCR: boolean, out: SplitLine[]): number {
    const max = this.#max;
    while (this.#len + (b - a) > max) {
      if (holdCR && this.#len + (b - a) === max + 1) {
        const lastByte = b > a ? chunk[b - 1] : this.#buf[this.#len - 1];
        if (lastByte === CR) break;
      }
      let text: string;
      if (this.#len === 0) {
        // Cut straight from the chunk: no copy.
        const cut = _cutPoint(chunk, a, a + max);
        text = decodeVisible(chunk.subarray(a, cut));
        a = cut;
      } else {
        if (this.#len < max) {
          const take = max - this.#len;
          this.#ensure(max);
          this.#buf.set(chunk.subarray(a, a + take), this.#len);
          this.#len += take;
          a += take;
        }
        const cut = _cutPoint(this.#buf, 0, max);
        text = decodeVisible(this.#buf.subarray(0, cut));
        this.#buf.copyWithin(0, cut, this.#len);
        this.#len -= cut;
      }
      this.#parts++;
      out.push({ text, split: { part: this.#parts, last: false } });
    }
    return a;
  }
}
