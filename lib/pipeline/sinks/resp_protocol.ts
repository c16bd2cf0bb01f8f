/**
 * The RESP2 wire format as wrapp's Redis client speaks it: commands encoded as arrays of
 * bulk strings, and replies parsed from the bytes the connection delivers, however they
 * are split across reads.
 *
 * @module
 */

/** An error reply of Redis (`-ERR …`, `-WRONGTYPE …`): `name` is `ReplyError`, as in ioredis. */
export class RespReplyError extends Error {
  /** The error reply's text, e.g. `WRONGPASS invalid username-password pair`. */
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
  }
}

/** A reply: a string, an integer, `null`, an array of replies, or an error inside an array. */
export type RespReply = string | number | null | RespReply[] | RespReplyError;

/** A command argument. Numbers are sent in decimal. */
export type RespArg = string | number;

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();
const _CR = 13;

/** What {@linkcode RespReplyBuffer.next} returns while the next reply is not all there. */
export const RESP_INCOMPLETE: unique symbol = Symbol("incomplete");

/** `*<n>\r\n$<len>\r\n<arg>\r\n…` as a string (lengths in UTF-8 bytes), encoded once per write. */
export function respCommandText(command: string, args: readonly RespArg[]): string {
  let text = `*${args.length + 1}\r\n$${_utf8Length(command)}\r\n${command}\r\n`;
  for (const arg of args) {
    const value = typeof arg === "string" ? arg : String(arg);
    text += `$${_utf8Length(value)}\r\n${value}\r\n`;
  }
  return text;
}

/** {@linkcode respCommandText} as the bytes to write. */
export function encodeRespCommand(command: string, args: readonly RespArg[]): Uint8Array {
  return _encoder.encode(respCommandText(command, args));
}

/** The UTF-8 length of `text` as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function _utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code < 0xdc00) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next < 0xe000) {
        bytes += 2; // a pair: 4 bytes for 2 code units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** Bytes read from a connection, parsed into replies as they become complete. */
export class RespReplyBuffer {
  #buffer = new Uint8Array(0);
  #offset = 0;

  /** Add bytes just read (copied: the caller reuses its chunk). */
  append(bytes: Uint8Array): void {
    const left = this.#buffer.length - this.#offset;
    if (left === 0) {
      this.#buffer = bytes.slice();
    } else {
      const joined = new Uint8Array(left + bytes.length);
      joined.set(this.#buffer.subarray(this.#offset));
      joined.set(bytes, left);
      this.#buffer = joined;
    }
    this.#offset = 0;
  }

  /** The next complete reply, taken from the buffer; {@linkcode RESP_INCOMPLETE} when there is none yet. */
  next(): RespReply | typeof RESP_INCOMPLETE {
    if (this.#offset >= this.#buffer.length) return RESP_INCOMPLETE;
    const parser = { buffer: this.#buffer, offset: this.#offset };
    const reply = _parse(parser);
    if (reply !== RESP_INCOMPLETE) this.#offset = parser.offset;
    return reply;
  }
}

/** One reply from `state.buffer` at `state.offset`, advancing it; `RESP_INCOMPLETE` if it is not all there. */
function _parse(state: { buffer: Uint8Array; offset: number }): RespReply | typeof RESP_INCOMPLETE {
  const { buffer } = state;
  const start = state.offset;
  if (start >= buffer.length) return RESP_INCOMPLETE;
  const end = buffer.indexOf(_CR, start + 1);
  if (end < 0 || end + 1 >= buffer.length) return RESP_INCOMPLETE;
  const type = buffer[start];
  const line = () => _ascii(buffer, start + 1, end);
  state.offset = end + 2;
  switch (type) {
    case 0x2b: // +
      return line();
    case 0x2d: // -
      return new RespReplyError(_decoder.decode(buffer.subarray(start + 1, end)));
    case 0x3a: // :
      return Number(line());
    case 0x24: { // $
      const length = Number(line());
      if (length < 0) return null;
      const from = state.offset;
      if (from + length + 2 > buffer.length) {
        state.offset = start;
        return RESP_INCOMPLETE;
      }
      state.offset = from + length + 2;
      return length < 48 ? _short(buffer, from, from + length) : _decoder.decode(
        buffer.subarray(from, from + length),
      );
    }
    case 0x2a: { // *
      const count = Number(line());
      if (count < 0) return null;
      const items: RespReply[] = new Array(count);
      for (let k = 0; k < count; k++) {
        const item = _parse(state);
        if (item === RESP_INCOMPLETE) {
          state.offset = start;
          return RESP_INCOMPLETE;
        }
        items[k] = item;
      }
      return items;
    }
    default:
      throw new Error(`Unexpected reply from Redis (type byte ${type})`);
  }
}

function _ascii(buffer: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += String.fromCharCode(buffer[i]);
  return text;
}

/** A short bulk string: stream ids and counters are ASCII, decoded without TextDecoder. */
function _short(buffer: Uint8Array, from: number, to: number): string {
  for (let i = from; i < to; i++) {
    if (buffer[i] >= 0x80) return _decoder.decode(buffer.subarray(from, to));
  }
  return _ascii(buffer, from, to);
}
