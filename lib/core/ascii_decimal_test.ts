import assert from "node:assert/strict";
import { decimalDigits, writeDecimal } from "./ascii_decimal.ts";

Deno.test("writeDecimal() writes what String() writes, across the int32 and 1e9 boundaries", () => {
  const values = [
    0,
    7,
    -7,
    10,
    999_999_999,
    1_000_000_000,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    1_796_667_991_063,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ];
  const out = new Uint8Array(32);
  for (const value of values) {
    const end = writeDecimal(out, 3, value);
    const text = new TextDecoder().decode(out.subarray(3, end));
    assert.equal(text, String(value));
    assert.equal(decimalDigits(value), text.length);
  }
});
