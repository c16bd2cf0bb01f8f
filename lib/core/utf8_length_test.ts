import assert from "node:assert/strict";
import { utf8Length } from "./utf8_length.ts";

Deno.test("utf8Length() counts what TextEncoder writes", () => {
  const samples = [
    "",
    "abc",
    "h\u00e9",
    "\u20ac",
    "\u{1f600}x",
    "\ud800",
    "a\udc00",
    "\ud800b",
    "\ud800",
  ];
  for (const text of samples) {
    assert.equal(utf8Length(text), new TextEncoder().encode(text).length, JSON.stringify(text));
  }
});
