import assert from "node:assert/strict";
import { procStatFields } from "./proc_stat.ts";

Deno.test("procStatFields() starts at the state, after a name holding spaces and parentheses", () => {
  const fields = procStatFields("42 (a) b (c)) S 1 42 42 0 -1 4194560 0\n");
  assert.deepEqual(fields?.slice(0, 3), ["S", "1", "42"]);
  // Field 9 (flags) is [6]; the line's newline stays on the last field.
  assert.equal(fields?.[6], "4194560");
  assert.equal(fields?.at(-1), "0\n");
});

Deno.test("procStatFields() is undefined for text that is not a stat line", () => {
  assert.equal(procStatFields(""), undefined);
  assert.equal(procStatFields("42 sleep S 1"), undefined);
});
