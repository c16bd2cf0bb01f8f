import assert from "node:assert/strict";
import { resolve } from "node:path";
import { ROOT_RUNTIME_DIR } from "../runtime_dir.ts";
import { psRuntimeDirs } from "./local_services.ts";

Deno.test("psRuntimeDirs(): the folder given alone, every user's for root, else the user's own", async () => {
  const env = (name: string) => name === "XDG_RUNTIME_DIR" ? "/nonexistent-xdg" : undefined;
  assert.deepEqual(await psRuntimeDirs({ explicit: "some/dir", uid: 1000, env }), [
    resolve("some/dir"),
  ]);
  assert.deepEqual(await psRuntimeDirs({ explicit: "some/dir", uid: 0, env }), [
    resolve("some/dir"),
  ]);
  const root = await psRuntimeDirs({ explicit: "", uid: 0, env });
  assert.equal(root[0], ROOT_RUNTIME_DIR);
  assert.deepEqual(await psRuntimeDirs({ uid: 1000, env }), ["/nonexistent-xdg/wrapp"]);
});
