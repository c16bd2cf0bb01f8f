import assert from "node:assert/strict";
import { buildCallTree } from "./call_tree.ts";
import { formatOffset, type TezedgeNode, toTezedgeTree } from "./tezedge_json.ts";
import { STACKS } from "./_test_stacks.ts";

function names(node: TezedgeNode): unknown[] {
  return node.frames.map((f) => typeof f.name === "string" ? f.name : f.name?.functionName);
}

Deno.test("toTezedgeTree() writes TezEdge's nodes with the name object and flat fields", () => {
  const tree = toTezedgeTree(buildCallTree(STACKS), { threshold: 0 });
  assert.equal(tree.name, undefined);
  assert.equal(tree.value, 90212);
  assert.equal(tree.cacheValue, 8192);
  const start = tree.frames[0];
  assert.deepEqual(start.name, {
    offset: formatOffset(0x1000 + "__libc_start_main".length),
    executable: "app",
    functionName: "__libc_start_main",
    functionCategory: "nodeCpp",
  });
  assert.equal(start.executable, "app");
  assert.equal(start.functionName, "__libc_start_main");
  const main = start.frames[0];
  // main's own 100 kB is what its children do not explain.
  assert.deepEqual(names(main), ["alloc_a", "alloc_b", "read_file", "unknown"]);
  assert.equal(main.frames[3].value, 100);
  const readFile = main.frames[2];
  assert.equal(readFile.cacheValue, 8192);
  assert.deepEqual(readFile.frames[0].name, {
    offset: formatOffset(0x1004),
    executable: "libc.so.6",
    functionName: "read",
    functionCategory: "systemLib",
  });
  assert.deepEqual(readFile.frames[0].frames, []);
});

Deno.test("toTezedgeTree() folds children below the threshold into underThreshold", () => {
  const tree = toTezedgeTree(buildCallTree(STACKS), { threshold: 10000 });
  const main = tree.frames[0].frames[0];
  assert.deepEqual(names(main), ["alloc_a", "alloc_b", "underThreshold", "unknown"]);
  assert.deepEqual(main.frames[2], {
    name: "underThreshold",
    value: 8192,
    cacheValue: 8192,
    frames: [],
  });
  const reversed = toTezedgeTree(buildCallTree(STACKS, { reverse: true }), { threshold: 10000 });
  assert.deepEqual(names(reversed), ["alloc_a", "alloc_b", "underThreshold"]);
  assert.deepEqual(names(reversed.frames[0]), ["main"]);
});

Deno.test("toTezedgeTree() of an empty profile is a root with nothing", () => {
  assert.deepEqual(toTezedgeTree(buildCallTree([])), { value: 0, cacheValue: 0, frames: [] });
});

Deno.test("formatOffset() pads to 8 hex digits like TezEdge", () => {
  assert.equal(formatOffset(0x1189), "00001189");
  assert.equal(formatOffset(0x123456789), "123456789");
});
