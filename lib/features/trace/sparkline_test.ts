import assert from "node:assert/strict";
import { sparkline } from "./sparkline.ts";

Deno.test("sparkline() scales to the largest value and pads on the left", () => {
  assert.equal(sparkline([1, 2, 4, 8], 6), "  ▁▂▄█");
  assert.equal(sparkline([0, 8, 0], 3), " █ ");
  assert.equal(sparkline([1, 1000], 2), "▁█", "a small non-zero value still shows");
});

Deno.test("sparkline() keeps the newest values when there are more than columns", () => {
  assert.equal(sparkline([100, 1, 2, 3, 4], 4), "▂▄▆█");
  assert.equal(sparkline([5, 5], 0), "");
  assert.equal(sparkline([], 3), "   ");
  assert.equal(sparkline([4], 1, 8), "▄", "a fixed maximum");
});
