/**
 * The RESP2 wire format as wrapp's Redis client reads it: replies parsed from the bytes the
 * connection delivers, however they are split across reads (commands are written by
 * resp_writer.ts).
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

const _decoder = new TextDecoder();
const _CR = 13;

/** What {@linkcode RespReplyBuffer.next} returns while the next reply is not all there. */
export const RESP_INCOMPLETE: unique symbol = Symbol("incomplete");

/** Where parsing stands: the bytes and the offset of the next reply. */
interface _ParseState {
  buffer: Uint8Array;
  offset: number;
}

/** Bytes read from a connection, parsed into replies as they become complete. */
export class RespReplyBuffer {
  // One state for every reply: parsing a reply allocates the reply and nothing else.
  readonly #state: _ParseState = { buffer: new Uint8Array(0), offset: 0 };

  /** Add bytes just read (copied: the caller reuses its chunk). */
  append(bytes: Uint8Array): void {
    const state = this.#state;
    const left = state.buffer.length - state.offset;
    if (left === 0) {
      state.buffer = bytes.slice();
    } else {
      const joined = new Uint8Array(left + bytes.length);
      joined.set(state.buffer.subarray(state.offset));
      joined.set(bytes, left);
      state.buffer = joined;
    }
    state.offset = 0;
  }

  /**
   * The next complete reply, taken from the buffer; {@linkcode RESP_INCOMPLETE} when there
   * is none yet. `textless`: a string reply is skipped and given as `""` (nothing decoded).
   */
  next(textless = false): RespReply | typeof RESP_INCOMPLETE {
    const state = this.#state;
    if (state.offset >= state.buffer.length) return RESP_INCOMPLETE;
    const start = state.offset;
    const reply = _parse(state, textless);
    if (reply === RESP_INCOMPLETE) state.offset = start;
    return reply;
  }
}

/** One reply from `state.buffer` at `state.offset`, advancing it; `RESP_INCOMPLETE` if it is not all there. */
function _parse(state: _ParseState, textless = false): RespReply | typeof RESP_INCOMPLETE {
  const { buffer } = state;
  const start = state.offset;
  if (start >= buffer.length) return RESP_INCOMPLETE;
  const end = buffer.indexOf(_CR, start + 1);
  if (end < 0 || end + 1 >= buffer.length) return RESP_INCOMPLETE;
  const type = buffer[start];
  state.offset = end + 2;
  switch (type) {
    case 0x2b: // +
      return textless ? "" : _text(buffer, start + 1, end);
    case 0x2d: // -
      return new RespReplyError(_decoder.decode(buffer.subarray(start + 1, end)));
    case 0x3a: // :
      return _integer(buffer, start + 1, end);
    case 0x24: { // $
      const length = _integer(buffer, start + 1, end);
      if (length < 0) return null;
      const from = state.offset;
      if (from + length + 2 > buffer.length) return RESP_INCOMPLETE;
      state.offset = from + length + 2;
      return textless ? "" : _text(buffer, from, from + length);
    }
    case 0x2a: { // *
      const count = _integer(buffer, start + 1, end);
      if (count < 0) return null;
      const items: RespReply[] = new Array(count);
      for (let k = 0; k < count; k++) {
        const item = _parse(state);
        if (item === RESP_INCOMPLETE) return RESP_INCOMPLETE;
        items[k] = item;
      }
      return items;
    }
    default:
      throw new Error(`Unexpected reply from Redis (type byte ${type})`);
  }
}

/** The decimal integer in `buffer[from, to)`, read without making a string of it. */
function _integer(buffer: Uint8Array, from: number, to: number): number {
  const negative = buffer[from] === 0x2d;
  let value = 0;
  for (let i = negative ? from + 1 : from; i < to; i++) {
    const digit = buffer[i] - 0x30;
    if (digit < 0 || digit > 9) {
      throw new Error(`Unexpected reply from Redis (not an integer: ${_text(buffer, from, to)})`);
    }
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** UTF-8 text; short ASCII (stream ids, counters, OK) without TextDecoder. */
function _text(buffer: Uint8Array, from: number, to: number): string {
  if (to - from >= 48) return _decoder.decode(buffer.subarray(from, to));
  for (let i = from; i < to; i++) {
    if (buffer[i] >= 0x80) return _decoder.decode(buffer.subarray(from, to));
  }
  return String.fromCharCode.apply(null, buffer.subarray(from, to) as unknown as number[]);
}
