/**
 * Checks a JSON line of a TEF recording without turning it into a string or objects.
 *
 * Assembling a trace reads every line the run recorded; `JSON.parse` of a million lines
 * cost 2.7 s and grew the heap to 227 MiB. Almost every line is one wrapp wrote itself, so
 * a byte-level check answers "certainly a valid event" for those, and everything else
 * (a line cut off by a crash, spaces before the first key, invalid UTF-8, an escaped key)
 * goes to `JSON.parse`, which has the last word.
 *
 * @module
 */

const _QUOTE = 0x22;
const _BACKSLASH = 0x5c;
const _MAX_DEPTH = 64;

/**
 * Whether `bytes[start, end)` is, for certain, one JSON object that begins `{"`, whose
 * top level holds `"ph"` with a string value, and whose strings are valid UTF-8.
 * `false` means "not certain": the caller decides with `JSON.parse`.
 */
export function isPlainEventLine(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2 || bytes[start] !== 0x7b || bytes[start + 1] !== _QUOTE) return false;
  let phIsString = false;
  let i = start + 1;
  for (;;) {
    i = _space(bytes, i, end);
    if (bytes[i] !== _QUOTE || i >= end) return false;
    const keyStart = i + 1;
    i = _string(bytes, i, end);
    if (i < 0) return false;
    // An escaped key could spell "ph" (\u0070h): leave that to JSON.parse.
    if (bytes.subarray(keyStart, i - 1).includes(_BACKSLASH)) return false;
    const isPh = i - 1 - keyStart === 2 && bytes[keyStart] === 0x70 && bytes[keyStart + 1] === 0x68;
    i = _space(bytes, i, end);
    if (bytes[i] !== 0x3a || i >= end) return false;
    i = _space(bytes, i + 1, end);
    // The last "ph" wins, as in JSON.parse.
    if (isPh) phIsString = bytes[i] === _QUOTE && i < end;
    i = _value(bytes, i, end, 1);
    if (i < 0) return false;
    i = _space(bytes, i, end);
    if (i >= end) return false;
    if (bytes[i] === 0x2c) {
      i++;
      continue;
    }
    if (bytes[i] !== 0x7d) return false;
    return phIsString && _space(bytes, i + 1, end) === end;
  }
}

/** Index after the value at `i`, or -1 when it is not valid JSON. */
function _value(bytes: Uint8Array, i: number, end: number, depth: number): number {
  if (i >= end || depth > _MAX_DEPTH) return -1;
  const c = bytes[i];
  if (c === _QUOTE) return _string(bytes, i, end);
  if (c === 0x7b) return _container(bytes, i, end, depth, 0x7d, true);
  if (c === 0x5b) return _container(bytes, i, end, depth, 0x5d, false);
  if (c === 0x74) return _literal(bytes, i, end, _TRUE);
  if (c === 0x66) return _literal(bytes, i, end, _FALSE);
  if (c === 0x6e) return _literal(bytes, i, end, _NULL);
  return _number(bytes, i, end);
}

const _TRUE = new TextEncoder().encode("true");
const _FALSE = new TextEncoder().encode("false");
const _NULL = new TextEncoder().encode("null");

function _literal(bytes: Uint8Array, i: number, end: number, word: Uint8Array): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word[k]) return -1;
  return i + word.length;
}

/** An object (`withKeys`) or an array starting at `i`. */
function _container(
  bytes: Uint8Array,
  i: number,
  end: number,
  depth: number,
  close: number,
  withKeys: boolean,
): number {
  i = _space(bytes, i + 1, end);
  if (i < end && bytes[i] === close) return i + 1;
  for (;;) {
    if (withKeys) {
      if (i >= end || bytes[i] !== _QUOTE) return -1;
      i = _string(bytes, i, end);
      if (i < 0) return -1;
      i = _space(bytes, i, end);
      if (i >= end || bytes[i] !== 0x3a) return -1;
      i = _space(bytes, i + 1, end);
    }
    i = _value(bytes, i, end, depth + 1);
    if (i < 0) return -1;
    i = _space(bytes, i, end);
    if (i >= end) return -1;
    if (bytes[i] === close) return i + 1;
    if (bytes[i] !== 0x2c) return -1;
    i = _space(bytes, i + 1, end);
  }
}

/** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` */
function _number(bytes: Uint8Array, i: number, end: number): number {
  if (i < end && bytes[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (bytes[i] === 0x30) i++;
  else if (_isDigit(bytes[i])) i = _digits(bytes, i, end);
  else return -1;
  if (i < end && bytes[i] === 0x2e) {
    if (i + 1 >= end || !_isDigit(bytes[i + 1])) return -1;
    i = _digits(bytes, i + 1, end);
  }
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
    i++;
    if (i < end && (bytes[i] === 0x2b || bytes[i] === 0x2d)) i++;
    if (i >= end || !_isDigit(bytes[i])) return -1;
    i = _digits(bytes, i, end);
  }
  return i;
}

function _isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function _digits(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && _isDigit(bytes[i])) i++;
  return i;
}

/** Index after the string whose opening quote is at `i`, or -1. */
function _string(bytes: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = bytes[i];
    if (c === _QUOTE) return i + 1;
    if (c === _BACKSLASH) {
      i = _escape(bytes, i + 1, end);
      if (i < 0) return -1;
    } else if (c < 0x20) {
      return -1;
    } else if (c < 0x80) {
      i++;
    } else {
      i = _utf8(bytes, i, end);
      if (i < 0) return -1;
    }
  }
  return -1;
}

/** Index after the escape whose letter is at `i` (`\n`, `\u00e9`, ...), or -1. */
function _escape(bytes: Uint8Array, i: number, end: number): number {
  if (i >= end) return -1;
  const c = bytes[i];
  // " \ / b f n r t
  if (
    c === _QUOTE || c === _BACKSLASH || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e ||
    c === 0x72 || c === 0x74
  ) return i + 1;
  if (c !== 0x75 || i + 4 >= end) return -1;
  for (let k = 1; k <= 4; k++) {
    const h = bytes[i + k];
    const hex = _isDigit(h) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66);
    if (!hex) return -1;
  }
  return i + 5;
}

/** Index after the well-formed UTF-8 sequence at `i` (Unicode's table 3-7), or -1. */
function _utf8(bytes: Uint8Array, i: number, end: number): number {
  const lead = bytes[i];
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // no overlong forms
    if (lead === 0xed) high = 0x9f; // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f; // nothing above U+10FFFF
  } else return -1;
  if (i + length > end) return -1;
  const second = bytes[i + 1];
  if (second < low || second > high) return -1;
  for (let k = 2; k < length; k++) {
    const next = bytes[i + k];
    if (next < 0x80 || next > 0xbf) return -1;
  }
  return i + length;
}

/** Index of the first byte at or after `i` that is not JSON whitespace. */
function _space(bytes: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
  return i;
}
