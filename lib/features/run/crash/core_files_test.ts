import assert from "node:assert/strict";
import { globComponents } from "./core_files.ts";
import { corePathMatchers, expandCorePattern } from "./core_pattern.ts";
import { tempDir } from "./_find_core_test_helpers.ts";

Deno.test("globComponents() walks folders matching wildcards", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/host-a`);
  await Deno.mkdir(`${dir.path}/host-b`);
  await Deno.writeTextFile(`${dir.path}/host-a/core.7`, "");
  await Deno.writeTextFile(`${dir.path}/host-b/core.7`, "");
  await Deno.writeTextFile(`${dir.path}/host-b/core.8`, "");
  const pieces = expandCorePattern(`${dir.path}/%h/core.%p`, { pid: 7 });
  const found = await globComponents(corePathMatchers(pieces, "/"));
  assert.deepEqual(found.sort(), [`${dir.path}/host-a/core.7`, `${dir.path}/host-b/core.7`]);
});
