import assert from "node:assert/strict";
import { nonEmptyFields } from "./non_empty_fields.ts";

Deno.test("nonEmptyFields() leaves out unset and empty values, keeps the rest in order", () => {
  assert.deepEqual(
    Object.entries(nonEmptyFields({ a: "1", b: undefined, c: "", d: "0" })),
    [["a", "1"], ["d", "0"]],
  );
});
