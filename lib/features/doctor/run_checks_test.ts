import assert from "node:assert/strict";
import type { CheckResult } from "./check_result.ts";
import { runChecks } from "./run_checks.ts";

Deno.test("runChecks() keeps the order, runs concurrently, and reports a hung or failing check", async () => {
  let release = () => {};
  const hung = new Promise<CheckResult[]>((resolve) => {
    release = () => resolve([]);
  });
  const results = await runChecks([
    { names: ["slow"], run: () => hung },
    {
      names: ["a", "b"],
      run: () =>
        Promise.resolve([
          { check: "a", status: "ok", message: "A" },
          { check: "b", status: "missing", message: "B", fix: "fix B" },
        ]),
    },
    { names: ["boom"], run: () => Promise.reject(new Error("kaput")) },
  ], 100);
  // `hung` resolves only after runChecks returns: had it waited for the slow check, the
  // await above would never end (a proof that needs no clock).
  release();
  assert.deepEqual(results.map((r) => [r.check, r.status]), [
    ["slow", "warning"],
    ["a", "ok"],
    ["b", "missing"],
    ["boom", "warning"],
  ]);
  assert.match(results[0].message, /no answer within 100 ms/);
  assert.match(results[3].message, /kaput/);
});
