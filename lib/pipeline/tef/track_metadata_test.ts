import assert from "node:assert/strict";
import { trackMetadata } from "./track_metadata.ts";

Deno.test("trackMetadata() names the process, then each track with its sort index", () => {
  const lines = trackMetadata(42, "svc", { run: 1, stdout: 2 }).trimEnd().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(lines, [
    { ph: "M", pid: 42, name: "process_name", args: { name: "svc" } },
    { ph: "M", pid: 42, tid: 1, name: "thread_name", args: { name: "run" } },
    { ph: "M", pid: 42, tid: 1, name: "thread_sort_index", args: { sort_index: 1 } },
    { ph: "M", pid: 42, tid: 2, name: "thread_name", args: { name: "stdout" } },
    { ph: "M", pid: 42, tid: 2, name: "thread_sort_index", args: { sort_index: 2 } },
  ]);
});
