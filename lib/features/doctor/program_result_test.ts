import assert from "node:assert/strict";
import { programResult } from "./program_result.ts";

Deno.test("programResult(): found, missing, or a warning when optional", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/gdb`, "#!/bin/sh\n", { mode: 0o755 });
    const spec = {
      check: "gdb",
      program: "gdb",
      feature: "backtraces",
      fix: "apt-get install gdb",
    };
    assert.deepEqual(await programResult({ ...spec, path: dir }), {
      check: "gdb",
      status: "ok",
      message: `${dir}/gdb`,
    });
    const missing = await programResult({ ...spec, path: `${dir}/none` });
    assert.equal(missing.status, "missing");
    assert.equal(missing.message, '"gdb" is not in PATH (needed for backtraces)');
    assert.equal(missing.fix, "apt-get install gdb");
    const optional = await programResult({ ...spec, path: `${dir}/none`, whenMissing: "warning" });
    assert.equal(optional.status, "warning");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
