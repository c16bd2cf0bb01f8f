import assert from "node:assert/strict";
import { foldedStacks } from "./folded.ts";
import { fakeFrame, STACKS } from "./_test_stacks.ts";

Deno.test("foldedStacks() writes outermost-first lines with kB values", () => {
  assert.equal(
    foldedStacks(STACKS),
    [
      "__libc_start_main;main 100",
      "__libc_start_main;main;alloc_a 65536",
      "__libc_start_main;main;alloc_b 16384",
      "__libc_start_main;main;read_file;read 8192",
      "",
    ].join("\n"),
  );
  assert.equal(
    foldedStacks(STACKS, { value: "cache" }),
    "__libc_start_main;main;read_file;read 8192\n",
  );
});

Deno.test("foldedStacks() adds up equal lines and names frames it cannot name", () => {
  const unnamed = { ...fakeFrame("x"), functionName: undefined, offset: 0x2a };
  const text = foldedStacks([
    { frames: [unnamed, fakeFrame("a;b")], residentKb: 4, cacheKb: 0 },
    { frames: [unnamed, fakeFrame("a;b")], residentKb: 4, cacheKb: 4 },
    { frames: [], residentKb: 8, cacheKb: 0 },
  ]);
  assert.equal(text, "[no user stack] 8\na:b;app+0x2a 12\n");
});
