/**
 * The delivery ledger's file, as text (see `delivery_ledger.ts`): written as bytes straight
 * into a buffer, once per batch sent (at 1000 lines/s, once per line), and parsed back by
 * the next process.
 *
 * ```
 * wrapp delivery ledger 1
 * accepted 121068
 * held 99292-121068
 * sending 99292-101291
 * unreported -
 * ```
 *
 * @module
 */

import { writeDecimal } from "../../core/ascii_decimal.ts";
import type { SeqRange } from "./seq_ranges.ts";

/** What the file says. */
export interface LedgerState {
  /** The highest sequence number given. */
  accepted: number;
  /** The ranges only memory holds. */
  held: readonly SeqRange[];
  /** The range of the batch being sent, if any. */
  sending?: SeqRange;
  /** Losses of an earlier process not yet reported. */
  unreported?: readonly SeqRange[];
}

const _HEADER = "wrapp delivery ledger 1";
const _ascii = (text: string) => new TextEncoder().encode(text);
const _ACCEPTED = _ascii(`${_HEADER}\naccepted `);
const _HELD = _ascii("\nheld ");
const _SENDING = _ascii("\nsending ");
const _UNREPORTED = _ascii("\nunreported ");
const _LF = 10, _COMMA = 44, _DASH = 45;
const _NONE: readonly SeqRange[] = [];
// The most bytes of the text without its ranges (with a 16-digit `accepted`), and per range
// (two 16-digit numbers and two separators).
const _FIXED_BYTES = _ACCEPTED.length + _HELD.length + _SENDING.length + _UNREPORTED.length + 24;
const _RANGE_BYTES = 34;

/** The most bytes {@linkcode writeLedgerText} writes for `state`. */
export function ledgerTextBound(state: LedgerState): number {
  const ranges = state.held.length + (state.unreported?.length ?? 0) + 1;
  return _FIXED_BYTES + _RANGE_BYTES * ranges;
}

/**
 * Write `state` as the file's text at the start of `out` (room for
 * {@linkcode ledgerTextBound} bytes); returns its length.
 */
export function writeLedgerText(out: Uint8Array, state: LedgerState): number {
  let at = _put(out, 0, _ACCEPTED);
  at = writeDecimal(out, at, state.accepted);
  at = _putRanges(out, _put(out, at, _HELD), state.held);
  at = _putRanges(out, _put(out, at, _SENDING), state.sending ? [state.sending] : _NONE);
  at = _putRanges(out, _put(out, at, _UNREPORTED), state.unreported ?? _NONE);
  out[at++] = _LF;
  return at;
}

/**
 * Parse the text of a ledger file (trailing padding allowed). Throws `SyntaxError` when it
 * is not one.
 */
export function parseLedger(
  text: string,
): { accepted: number; held: SeqRange[]; sending?: SeqRange; unreported?: SeqRange[] } {
  const lines = text.trimEnd().split("\n").map((line) => line.trim());
  const values = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const space = line.indexOf(" ");
    if (space > 0) values.set(line.slice(0, space), line.slice(space + 1));
  }
  const ranges = (key: string): SeqRange[] | undefined => {
    const value = values.get(key);
    if (value === undefined || value === "-") return value === undefined ? undefined : [];
    if (!/^\d+-\d+(?:,\d+-\d+)*$/.test(value)) throw _notLedger(text);
    return value.split(",").map((part) => {
      const [first, last] = part.split("-").map(Number);
      return [first, last] as const;
    });
  };
  const accepted = values.get("accepted") ?? "";
  const held = ranges("held");
  if (lines[0] !== _HEADER || !/^\d+$/.test(accepted) || held === undefined) {
    throw _notLedger(text);
  }
  // `sending` and `unreported` are absent from a ledger written before they existed.
  const sending = ranges("sending")?.[0];
  const unreported = ranges("unreported") ?? [];
  return {
    accepted: Number(accepted),
    held,
    ...(sending ? { sending } : {}),
    ...(unreported.length > 0 ? { unreported } : {}),
  };
}

function _notLedger(text: string): SyntaxError {
  return new SyntaxError(`not a delivery ledger: ${JSON.stringify(text.slice(0, 80))}`);
}

function _put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i];
  return at;
}

/** `ranges` as `formatRanges` (seq_ranges.ts) writes them: `12-15,20-20`, `-` for none. */
function _putRanges(out: Uint8Array, at: number, ranges: readonly SeqRange[]): number {
  if (ranges.length === 0) {
    out[at++] = _DASH;
    return at;
  }
  for (let i = 0; i < ranges.length; i++) {
    if (i > 0) out[at++] = _COMMA;
    at = writeDecimal(out, at, ranges[i][0]);
    out[at++] = _DASH;
    at = writeDecimal(out, at, ranges[i][1]);
  }
  return at;
}
