import assert from "node:assert/strict";
import { MAX_TITLE_CHARS, traceTitle } from "./trace_title.ts";

Deno.test("traceTitle() keeps the first line and cuts it without splitting a surrogate pair", () => {
  assert.equal(traceTitle("first\nsecond"), "first");
  assert.equal(traceTitle("x".repeat(MAX_TITLE_CHARS)), "x".repeat(MAX_TITLE_CHARS));
  assert.equal(traceTitle("x".repeat(MAX_TITLE_CHARS + 1)), "x".repeat(MAX_TITLE_CHARS - 1) + "…");
  // The emoji's two UTF-16 units would straddle the cut: it goes whole.
  const split = traceTitle("x".repeat(MAX_TITLE_CHARS - 2) + "😀".repeat(5));
  assert.equal(split, "x".repeat(MAX_TITLE_CHARS - 2) + "…");
  const whole = traceTitle("x".repeat(MAX_TITLE_CHARS - 3) + "😀".repeat(5));
  assert.equal(whole, "x".repeat(MAX_TITLE_CHARS - 3) + "😀…");
});
