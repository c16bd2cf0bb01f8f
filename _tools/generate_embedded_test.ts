import assert from "node:assert/strict";
import { PAGE_FILES, readPageSources, textExpression } from "./generate_embedded.ts";
import { PAGE_ASSETS } from "../lib/features/memprof/page_assets.ts";

const HINT = "out of date: run `deno run -A _tools/generate_embedded.ts`";

Deno.test("page_assets.ts holds every file of lib/features/memprof/page as it is", async () => {
  const page = await readPageSources();
  assert.deepEqual(Object.keys(PAGE_ASSETS).sort(), Object.keys(PAGE_FILES).sort());
  for (const [path, text] of Object.entries(page)) {
    assert.ok(PAGE_ASSETS[path].body === text, `page_assets.ts (${path}) is ${HINT}`);
    assert.equal(PAGE_ASSETS[path].type, PAGE_FILES[path].type);
  }
});

Deno.test("textExpression() keeps every line, quotes and backslashes included", () => {
  const text = 'a "quoted" line\n\tback\\slash `tick` ${x}\n\nend\n';
  assert.equal(new Function(`return ${textExpression(text)};`)(), text);
});
