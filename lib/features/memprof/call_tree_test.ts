import assert from "node:assert/strict";
import { buildCallTree, sortedChildren, topAllocationSites } from "./call_tree.ts";
import { fakeFrame, STACKS } from "./_test_stacks.ts";

Deno.test("buildCallTree() puts callees under callers and sums values upwards", () => {
  const root = buildCallTree(STACKS);
  assert.equal(root.value, 65536 + 16384 + 8192 + 100);
  assert.equal(root.cacheValue, 8192);
  const [start] = sortedChildren(root);
  assert.equal(start.frame?.functionName, "__libc_start_main");
  const [main] = sortedChildren(start);
  assert.equal(main.value, root.value);
  assert.deepEqual(
    sortedChildren(main).map((n) => [n.frame?.functionName, n.value, n.cacheValue]),
    [["alloc_a", 65536, 0], ["alloc_b", 16384, 0], ["read_file", 8192, 8192]],
  );
});

Deno.test("buildCallTree({ reverse }) puts allocation sites first and callers under them", () => {
  const root = buildCallTree(STACKS, { reverse: true });
  assert.deepEqual(
    sortedChildren(root).map((n) => [n.frame?.functionName, n.value]),
    [["alloc_a", 65536], ["alloc_b", 16384], ["read", 8192], ["main", 100]],
  );
  const read = sortedChildren(root)[2];
  assert.equal(sortedChildren(read)[0].frame?.functionName, "read_file");
});

Deno.test("buildCallTree() merges two stacks through the same functions", () => {
  const frames = ["alloc_a", "main"].map((n) => fakeFrame(n));
  const root = buildCallTree([
    { frames, residentKb: 4, cacheKb: 0 },
    { frames: frames.map((f) => ({ ...f, address: f.address + 8 })), residentKb: 8, cacheKb: 4 },
    { frames, residentKb: 0, cacheKb: 0 },
  ]);
  assert.equal(root.children.size, 1);
  const main = sortedChildren(root)[0];
  assert.equal(main.value, 16);
  assert.equal(main.cacheValue, 4);
  assert.equal(main.children.size, 1);
});

Deno.test("topAllocationSites() ranks innermost frames and names the own caller of a library", () => {
  const sites = topAllocationSites(STACKS, 3);
  assert.deepEqual(
    sites.map((s) => [s.frame.functionName, s.ownFrame?.functionName, s.residentKb + s.cacheKb]),
    [["alloc_a", undefined, 65536], ["alloc_b", undefined, 16384], ["read", "read_file", 8192]],
  );
});
