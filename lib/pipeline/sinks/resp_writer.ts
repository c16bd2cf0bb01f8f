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
    this.#byte(_STAR);
    this.#integer(args.length - from + 1);
    this.#crlf();
    this.#bulk(command);
    for (let i = from; i < args.length; i++) {
      const arg = args[i];
      this.#bulk(typeof arg === "string" ? arg : Number.isSafeInteger(arg) ? arg : String(arg));
    }
  }

  /** The bytes written, handed over: what is written next goes to a new buffer. */
  take(): Uint8Array<ArrayBuffer> {
    const bytes = this.#bytes.subarray(0, this.#length);
    this.#bytes = new Uint8Array(0);
    this.#length = 0;
    return bytes;
  }

  #bulk(value: string | number): void {
    this.#byte(_DOLLAR);
    if (typeof value === "number") {
      this.#integer(_digits(value));
      this.#crlf();
      this.#integer(value);
      this.#crlf();
      return;
    }
    const bytes = utf8Length(value);
    this.#integer(bytes);
    this.#crlf();
    this.#reserve(bytes + 2);
    if (bytes === value.length && bytes < _COPY_BELOW) {
      // ASCII: one byte per code unit.
      const out = this.#bytes;
      let at = this.#length;
      for (let i = 0; i < bytes; i++) out[at++] = value.charCodeAt(i);
      this.#length = at;
    } else {
      this.#length += _encoder.encodeInto(value, this.#bytes.subarray(this.#length)).written;
    }
    this.#crlf();
  }

  /** A safe integer in decimal. */
  #integer(value: number): void {
    if (value < 0) {
      this.#byte(_MINUS);
      value = -value;
    }
    const digits = _digits(value);
    this.#reserve(digits);
    const out = this.#bytes;
    let at = this.#length + digits;
    this.#length = at;
    do {
      out[--at] = _ZERO + value % 10;
      value = Math.floor(value / 10);
    } while (value > 0);
  }

  #crlf(): void {
    this.#reserve(2);
    this.#bytes[this.#length++] = _CR;
    this.#bytes[this.#length++] = _LF;
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
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

/** One command as the bytes to write. */
export function encodeRespCommand(command: string, args: readonly RespArg[]): Uint8Array {
  const writer = new RespCommandWriter(64);
  writer.command(command, args);
  return writer.take();
}

/** Decimal digits of a safe integer, its sign included. */
function _digits(value: number): number {
  let digits = value < 0 ? 2 : 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}
