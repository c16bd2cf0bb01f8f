/**
 * Safe integers written as ASCII decimal digits straight into a byte buffer: what the RESP
 * writer and the delivery ledger write on every line, without a string in between.
 *
 * @module
 */

const _ZERO = 48, _MINUS = 45;
const _BILLION = 1e9;

/**
 * Write the safe integer `value` in decimal at `out[at]`; returns where the next byte goes.
 * The caller has made room ({@linkcode decimalDigits} bytes).
 */
export function writeDecimal(out: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    out[at++] = _MINUS;
    value = -value;
  }
  const end = at + decimalDigits(value);
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

/** How many bytes {@linkcode writeDecimal} writes for the safe integer `value`, its sign included. */
export function decimalDigits(value: number): number {
  let digits = value < 0 ? 2 : 1;
  let rest = Math.abs(value);
  for (; rest >= _BILLION; rest = Math.floor(rest / _BILLION)) digits += 9;
  for (; rest >= 10; rest = (rest / 10) | 0) digits++;
  return digits;
}
