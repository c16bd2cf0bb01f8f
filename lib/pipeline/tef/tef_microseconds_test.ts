import assert from "node:assert/strict";
import { tefMicroseconds } from "./tef_microseconds.ts";

Deno.test("tefMicroseconds() keeps whole ms exact and the fraction to the ns at epoch magnitude", () => {
  assert.equal(tefMicroseconds(2), 2000);
  assert.equal(tefMicroseconds(1_764_000_000_000), 1_764_000_000_000_000);
  assert.equal(tefMicroseconds(1_764_000_000_000.25), 1_764_000_000_000_250);
  assert.equal(tefMicroseconds(0.0015), 1.5);
});
