/**
 * {@linkcode RespCommandWriter}: RESP commands written straight into bytes.
 *
 * Why bytes: building each command as a string cost the Redis sink ~2.7 kB of garbage per
 * line (a string per argument, per length and per `+=`, then the joined pipeline and its
 * encoded copy), and at 100k lines/s that garbage outlived young-generation collections
 * and set the sink's peak memory. Here an ASCII argument is copied byte by byte and a
 * number is written as its digits, into a region of a shared slab (below): a pipeline
 * allocates little else.
 *
 * @module
 */

import { utf8Length } from "../../core/utf8_length.ts";
import { decimalDigits, writeDecimal } from "../../core/ascii_decimal.ts";
import type { RespArg } from "./resp_protocol.ts";

const _encoder = new TextEncoder();
const _CR = 13, _LF = 10, _STAR = 42, _DOLLAR = 36;
// Longer or non-ASCII text goes through TextEncoder.encodeInto (a call into the runtime).
const _COPY_BELOW = 64;

// A pipeline's bytes are cut from shared slabs. A buffer of its own was a 4 KiB calloc per
// pipeline (and its free on a GC thread), which at 1000 lines/s is one per line. The slab
// only moves forward, so bytes taken are never written again.
const _SLAB_BYTES = 64 * 1024;
let _slab: Uint8Array<ArrayBuffer> = new Uint8Array(0);
let _slabUsed = 0;
const _EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);

/**
 * Room for `bytes` after the first `keep` bytes of `region` (which it copies): `region`
 * grown in place when it is the slab's last, else a new region; a large one is its own buffer.
 */
function _grow(
  region: Uint8Array<ArrayBuffer>,
  keep: number,
  bytes: number,
): Uint8Array<ArrayBuffer> {
  const start = region.byteOffset;
  if (region.buffer === _slab.buffer && start + region.length === _slabUsed) {
    if (start + bytes <= _slab.length) {
      _slabUsed = start + bytes;
      return _slab.subarray(start, _slabUsed);
    }
    _slabUsed = start; // moving out: the slab's end is free again
  }
  let grown: Uint8Array<ArrayBuffer>;
  if (bytes > _SLAB_BYTES / 4) {
    grown = new Uint8Array(bytes);
  } else {
    if (_slabUsed + bytes > _slab.length) {
      _slab = new Uint8Array(_SLAB_BYTES);
      _slabUsed = 0;
    }
    grown = _slab.subarray(_slabUsed, _slabUsed + bytes);
    _slabUsed += bytes;
  }
  grown.set(region.subarray(0, keep));
  return grown;
}

/** The unused end of `region`, from `used`, goes back to the slab when it is the slab's last. */
function _release(region: Uint8Array, used: number): void {
  if (region.buffer === _slab.buffer && region.byteOffset + region.length === _slabUsed) {
    _slabUsed = region.byteOffset + used;
  }
}

/** Commands appended to one growing buffer, taken as the bytes to write. */
export class RespCommandWriter {
  readonly #capacity: number;
  #bytes: Uint8Array<ArrayBuffer> = _EMPTY;
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
    at = writeDecimal(out, at, args.length - from + 1);
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

  /** The bytes written, handed over: what is written next goes to a new region. */
  take(): Uint8Array<ArrayBuffer> {
    const bytes = this.#bytes.subarray(0, this.#length);
    _release(this.#bytes, this.#length);
    this.#bytes = _EMPTY;
    this.#length = 0;
    return bytes;
  }

  #reserve(more: number): void {
    const needed = this.#length + more;
    if (needed <= this.#bytes.length) return;
    let capacity = Math.max(this.#bytes.length * 2, this.#capacity);
    while (capacity < needed) capacity *= 2;
    this.#bytes = _grow(this.#bytes, this.#length, capacity);
  }
}

// The writing below is plain functions over (buffer, offset), which V8 keeps in registers;
// each returns where the next byte goes. The caller has made room.

function _bulkInteger(out: Uint8Array, at: number, value: number): number {
  out[at++] = _DOLLAR;
  at = writeDecimal(out, at, decimalDigits(value));
  out[at++] = _CR;
  out[at++] = _LF;
  at = writeDecimal(out, at, value);
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
    at = writeDecimal(out, at, length);
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
  at = writeDecimal(out, at, utf8Length(value));
  out[at++] = _CR;
  out[at++] = _LF;
  at += _encoder.encodeInto(value, out.subarray(at)).written;
  out[at++] = _CR;
  out[at++] = _LF;
  return at;
}

/** One command as the bytes to write. */
export function encodeRespCommand(command: string, args: readonly RespArg[]): Uint8Array {
  const writer = new RespCommandWriter(64);
  writer.command(command, args);
  return writer.take();
}
