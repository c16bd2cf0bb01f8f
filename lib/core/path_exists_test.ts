import assert from "node:assert/strict";
import { pathExists } from "./path_exists.ts";

Deno.test("pathExists() sees files and folders, and a dangling link only when not following links", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    await Deno.symlink(`${dir}/nowhere`, `${dir}/dangling`);
    assert.equal(await pathExists(dir), true);
    assert.equal(await pathExists(`${dir}/file`), true);
    assert.equal(await pathExists(`${dir}/missing`), false);
    assert.equal(await pathExists(`${dir}/dangling`), false);
    assert.equal(await pathExists(`${dir}/dangling`, { followLinks: false }), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
