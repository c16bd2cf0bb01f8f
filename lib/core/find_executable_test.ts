import assert from "node:assert/strict";
import { findExecutable } from "./find_executable.ts";

Deno.test("findExecutable() searches PATH for a bare name and takes a path with a slash as is", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tool`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/data`, "not executable", { mode: 0o644 });
    assert.equal(await findExecutable("tool", { path: `/nonexistent:${dir}` }), `${dir}/tool`);
    assert.equal(await findExecutable("data", { path: dir }), undefined);
    assert.equal(await findExecutable("./tool", { cwd: dir }), `${dir}/tool`);
    assert.equal(await findExecutable(`${dir}/tool`), `${dir}/tool`);
    assert.equal(await findExecutable(`${dir}/missing`), undefined);
    assert.equal(await findExecutable(""), undefined);
    assert.equal(
      await findExecutable("sh"),
      await findExecutable("sh", { path: Deno.env.get("PATH") }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
