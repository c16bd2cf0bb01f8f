import assert from "node:assert/strict";
import { readTextOrUndefined } from "./read_text_or_undefined.ts";

Deno.test("readTextOrUndefined() reads a file, and gives undefined for a missing path or a folder", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/owner`, "42 7\n");
    assert.equal(readTextOrUndefined(`${dir}/owner`), "42 7\n");
    assert.equal(readTextOrUndefined(`${dir}/missing`), undefined);
    assert.equal(readTextOrUndefined(dir), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
