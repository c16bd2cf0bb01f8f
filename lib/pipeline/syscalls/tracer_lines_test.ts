import assert from "node:assert/strict";
import { parseRenameLine, parseSlowCallLine, ThreadNames } from "./tracer_lines.ts";

Deno.test("parseSlowCallLine() reads S lines, thread names with spaces included", () => {
  assert.deepEqual(parseSlowCallLine("S 100 101 230 5000 300000000 -4 my app"), {
    pid: 100,
    tid: 101,
    nr: 230,
    startNs: 5000,
    latencyNs: 300000000,
    ret: -4,
    comm: "my app",
  });
  assert.equal(parseSlowCallLine("S 1 2 3"), undefined);
  assert.equal(parseSlowCallLine("M 5 0"), undefined);
});

Deno.test("parseRenameLine() reads N lines, names with spaces included", () => {
  assert.deepEqual(parseRenameLine("N 100 101 5000 my app"), {
    pid: 100,
    tid: 101,
    ns: 5000,
    comm: "my app",
  });
  assert.equal(parseRenameLine("N 1 2"), undefined);
  assert.equal(parseRenameLine("S 1 2 3 4 5 6 x"), undefined);
});

Deno.test("ThreadNames keeps each thread's latest name by kernel time, whatever the arrival order", () => {
  const names = new ThreadNames();
  names.saw(7, 200, "slow");
  names.saw(7, 100, "python3"); // read late from another CPU's buffer
  names.saw(8, 50, "sh");
  names.saw(8, 60, "");
  assert.equal(names.latest(7), "slow");
  assert.equal(names.latest(9), undefined);
  assert.deepEqual(names.toRecord(), { 7: "slow", 8: "sh" });
});
