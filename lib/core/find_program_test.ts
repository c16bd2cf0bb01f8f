import assert from "node:assert/strict";
import { findProgram } from "./find_program.ts";

Deno.test("findProgram() looks names up in PATH and checks paths", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-find-program-" });
  try {
    await Deno.writeTextFile(`${dir}/tool`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/data`, "", { mode: 0o644 });
    assert.equal(await findProgram("tool", `/nonexistent:${dir}`), `${dir}/tool`);
    assert.equal(await findProgram("data", dir), undefined, "not executable");
    assert.equal(await findProgram(`${dir}/tool`, ""), `${dir}/tool`);
    assert.equal(await findProgram(`${dir}/missing`), undefined);
    assert.equal(await findProgram("tool", ""), undefined);
    assert.match(await findProgram("sh") ?? "", /\/sh$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
