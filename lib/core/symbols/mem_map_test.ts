import assert from "node:assert/strict";
import { parseMemMap, parseStackKey } from "./mem_map.ts";

const A =
  "\n\t5563f3dc01b2 0x5563f3dc01b2 ([unknown])\n\t5563f3dc0232 0x5563f3dc0232 ([unknown])\n";
const B = "\n\t7fe495662106 _int_malloc+3497 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n";

Deno.test("parseStackKey() reads the leading address of each frame line", () => {
  assert.deepEqual(parseStackKey(A), [0x5563f3dc01b2, 0x5563f3dc0232]);
  assert.deepEqual(parseStackKey(B), [0x7fe495662106]);
  assert.deepEqual(parseStackKey(""), []);
});

Deno.test("parseMemMap() joins resident and cache of a stack, drops empty stacks, adds up lost pages", () => {
  const { stacks, lostPages } = parseMemMap({
    [`${A},0`]: 16384,
    [`${A},1`]: 256,
    [`${A},2`]: 7,
    [`${B},0`]: 0,
    [`${B},1`]: -3,
    [`${B},2`]: 1,
    ",0": 5,
  });
  assert.equal(lostPages, 8);
  assert.deepEqual(stacks, [
    { key: A, addresses: [0x5563f3dc01b2, 0x5563f3dc0232], residentPages: 16384, cachePages: 256 },
    { key: "", addresses: [], residentPages: 5, cachePages: 0 },
  ]);
});
