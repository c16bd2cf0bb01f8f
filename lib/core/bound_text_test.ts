import assert from "node:assert/strict";
import { boundText } from "./bound_text.ts";

Deno.test("boundText() never cuts a UTF-8 character in half", () => {
  const { text, truncated } = boundText("é".repeat(100), 60);
  assert.equal(truncated, true);
  assert.ok(!text.includes("\uFFFD"));
  assert.deepEqual(boundText("short", 60), { text: "short", truncated: false });
});
