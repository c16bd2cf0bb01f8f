import assert from "node:assert/strict";
import { parseFatalSignalLine } from "./fatal_signal_line.ts";

Deno.test("parseFatalSignalLine reads the program's printf lines", () => {
  assert.deepEqual(parseFatalSignalLine("R 6367415596782\n"), { kind: "ready" });
  assert.deepEqual(parseFatalSignalLine("E 812"), { kind: "exec", pid: 812 });
  assert.deepEqual(parseFatalSignalLine("X 812\n"), { kind: "exit", pid: 812 });
  assert.deepEqual(parseFatalSignalLine("M 812\n"), { kind: "maps", pid: 812 });
  assert.equal(parseFatalSignalLine("M"), undefined);
  assert.equal(parseFatalSignalLine("X"), undefined);
  assert.deepEqual(parseFatalSignalLine("S 8616 8617 11 0\n"), {
    kind: "signal",
    pid: 8616,
    tid: 8617,
    signal: 11,
    result: 0,
  });
  assert.equal(parseFatalSignalLine("S 1 2 x 0"), undefined);
  assert.equal(parseFatalSignalLine("S 1 2"), undefined);
  assert.equal(parseFatalSignalLine(""), undefined);
  assert.equal(parseFatalSignalLine("hello"), undefined);
});
