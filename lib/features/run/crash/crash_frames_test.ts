import assert from "node:assert/strict";
import type { Symbolizer } from "../../../core/symbols/symbolizer.ts";
import { crashFrames, symbolizeFrames } from "./crash_frames.ts";

Deno.test("crashFrames gives gdb-shaped frames", () => {
  assert.deepEqual(
    crashFrames([
      {
        key: "k",
        address: 0x5590450b5145,
        executable: "segv",
        path: "/tmp/segv",
        offset: 0x1139,
        functionName: "crash_here",
        category: "nodeCpp",
      },
      {
        key: "?",
        address: 0x10,
        executable: "[unknown]",
        path: "",
        offset: 0x10,
        category: "unknown",
      },
    ]),
    [
      { index: 0, address: "0x00005590450b5145", function: "crash_here", library: "/tmp/segv" },
      { index: 1, address: "0x0000000000000010", function: "??" },
    ],
  );
});

Deno.test("crashFrames ends a stack that loops outside any file (no frame pointers)", () => {
  const frame = (address: number, path: string, functionName?: string) => ({
    key: `${address}`,
    address,
    executable: path,
    path,
    offset: 0,
    category: "systemLib" as const,
    ...(functionName ? { functionName } : {}),
  });
  const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  const frames = crashFrames([
    frame(0x7f00000010, libc, "__pthread_kill_implementation"),
    frame(0x7f00000999, "[anon]"),
    frame(0x7f00000999, "[anon]"),
    frame(0x7f00000999, "[anon]"),
  ]);
  assert.deepEqual(frames.map((f) => f.function), ["__pthread_kill_implementation"]);
  // Recursion repeats a return address inside a file: kept.
  const recursive = crashFrames([
    frame(0x1000, "/app", "fib"),
    frame(0x1010, "/app", "fib"),
    frame(0x1010, "/app", "fib"),
  ]);
  assert.equal(recursive.length, 3);
});

Deno.test("symbolizeFrames() gives unnamed frames and says why when the stack cannot be resolved", async () => {
  const errors: unknown[] = [];
  const symbolizer = {
    refreshMaps: () => Promise.resolve(false),
    resolveStacks: () => Promise.reject(new Error("cannot read /tmp/segv")),
  } as unknown as Symbolizer;
  const frames = await symbolizeFrames(symbolizer, [0x5590450b5145, 0x10], (e) => errors.push(e));
  assert.deepEqual(frames, [
    { index: 0, address: "0x00005590450b5145", function: "??" },
    { index: 1, address: "0x0000000000000010", function: "??" },
  ]);
  assert.match(String(errors[0]), /cannot read \/tmp\/segv/);
});
