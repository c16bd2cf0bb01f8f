/**
 * {@linkcode RespCommandWriter}: RESP commands written straight into bytes.
 *
 * Why bytes: building each command as a string cost the Redis sink ~2.7 kB of garbage per
 * line (a string per argument, per length and per `+=`, then the joined pipeline and its
 * encoded copy), and at 100k lines/s that garbage outlived young-generation collections
 * and set the sink's peak memory. Here an ASCII argument is copied byte by byte and a
 * number is written as its digits: a pipeline allocates its buffer and little else.
 *
 * @module
 */

import { utf8Length } from "../../core/utf8_length.ts";
import type { RespArg } from "./resp_protocol.ts";

const _encoder = new TextEncoder();
const _CR = 13, _LF = 10, _STAR = 42, _DOLLAR = 36, _ZERO = 48, _MINUS = 45;
// Longer or non-ASCII text goes through TextEncoder.encodeInto (a call into the runtime).
const _COPY_BELOW = 64;
const _BILLION = 1e9;

/** Commands appended to one growing buffer, taken as the bytes to write. */
export class RespCommandWriter {
  readonly #capacity: number;
  #bytes = new Uint8Array(0);
  #length = 0;

  /** A writer whose buffer starts at `capacity` bytes (when first written) and doubles as needed. */
  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  /** Bytes written since the last {@linkcode RespCommandWriter.take}. */
  get length(): number {
    return this.#length;
  }

  /**
   * Append `command` with `args[from…]` as an array of bulk strings: lengths in UTF-8
   * bytes (a lone surrogate is U+FFFD, 3 bytes, as TextEncoder writes it), numbers in
   * decimal.
   */
  command(command: string, args: readonly RespArg[], from = 0): void {
    // Room for the worst case first (3 bytes per UTF-16 unit), so no byte checks for it.
    let bound = 32 + 3 * command.length;
    for (let i = from; i < args.length; i++) {
      const arg = args[i];
      bound += typeof arg === "string" ? 16 + 3 * arg.length : 48;
    }
    this.#reserve(bound);
    const out = this.#bytes;
    let at = this.#length;
    out[at++] = _STAR;
    at = _integer(out, at, args.length - from + 1);
    out[at++] = _CR;
    out[at++] = _LF;
    at = _bulkText(out, at, command);
    for (let i = from; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === "string") at = _bulkText(out, at, arg);
      else if (Number.isSafeInteger(arg)) at = _bulkInteger(out, at, arg);
      else at = _bulkText(out, at, String(arg));
    }
    this.#length = at;
  }

  /** The bytes written, handed over: what is written next goes to a new buffer. */
  take(): Uint8Array<ArrayBuffer> {
    const bytes = this.#bytes.subarray(0, this.#length);
    this.#bytes = new Uint8Array(0);
    this.#length = 0;
    return bytes;
  }

  #reserve(more: number): void {
    const needed = this.#length + more;
    if (needed <= this.#bytes.length) return;
    let capacity = Math.max(this.#bytes.length * 2, this.#capacity);
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}

// The writing below is plain functions over (buffer, offset), which V8 keeps in registers;
// each returns where the next byte goes. The caller has made room.

function _bulkInteger(out: Uint8Array, at: number, value: number): number {
  out[at++] = _DOLLAR;
  at = _integer(out, at, _digits(value));
  out[at++] = _CR;
  out[at++] = _LF;
  at = _integer(out, at, value);
  out[at++] = _CR;
  out[at++] = _LF;
  return at;
}

function _bulkText(out: Uint8Array, at: number, value: string): number {
  const length = value.length;
  if (length < _COPY_BELOW) {
    // Guess ASCII, one byte per code unit, and copy in the same pass; the first other
    // character starts over below.
    const start = at;
    out[at++] = _DOLLAR;
    at = _integer(out, at, length);
    out[at++] = _CR;
    out[at++] = _LF;
    let i = 0;
    for (; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      out[at++] = code;
    }
    if (i === length) {
      out[at++] = _CR;
      out[at++] = _LF;
      return at;
    }
    at = start;
  }
  out[at++] = _DOLLAR;
  at = _integer(out, at, utf8Length(value));
  out[at++] = _CR;
  out[at++] = _LF;
  at += _encoder.encodeInto(value, out.subarray(at)).written;
  out[at++] = _CR;
  out[at++] = _LF;
  return at;
}

/** A safe integer in decimal. */
function _integer(out: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    out[at++] = _MINUS;
    value = -value;
  }
  const end = at + _digits(value);
  at = end;
  // Int32 arithmetic where it fits: `%` on a larger number (a timestamp in ms) is a call
  // to fmod. Above 1e9, nine digits at a time from the low end.
  while (value >= _BILLION) {
    const high = Math.floor(value / _BILLION);
    let low = value - high * _BILLION;
    for (let i = 0; i < 9; i++) {
      const rest = (low / 10) | 0;
      out[--at] = _ZERO + low - rest * 10;
      low = rest;
    }
    value = high;
  }
  let small = value | 0;
  do {
    const rest = (small / 10) | 0;
    out[--at] = _ZERO + small - rest * 10;
    small = rest;
  } while (small > 0);
  return end;
}

/** One command as the bytes to write. */
export function encodeRespCommand(command: string, args: readonly RespArg[]): Uint8Array {
  const writer = new RespCommandWriter(64);
  writer.command(command, args);
  return writer.take();
}

/** Decimal digits of a safe integer, its sign included. */
function _digits(value: number): number {
  let digits = value < 0 ? 2 : 1;
  let rest = Math.abs(value);
  for (; rest >= _BILLION; rest = Math.floor(rest / _BILLION)) digits += 9;
  for (; rest >= 10; rest = (rest / 10) | 0) digits++;
  return digits;
}
