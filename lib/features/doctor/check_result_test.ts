import assert from "node:assert/strict";
import { exitCodeOf } from "./check_result.ts";

Deno.test("exitCodeOf(): 1 only when something needed is missing", () => {
  assert.equal(exitCodeOf([{ check: "x", status: "warning", message: "" }]), 0);
  assert.equal(exitCodeOf([{ check: "x", status: "missing", message: "" }]), 1);
  assert.equal(exitCodeOf([{ check: "x", status: "missing", needed: false, message: "" }]), 0);
});
