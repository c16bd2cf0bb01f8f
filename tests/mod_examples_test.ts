/**
 * Every export of mod.ts, the library's API, shows how it is used: an `@example` with a
 * TypeScript code block in its JSDoc (as `deno doc mod.ts` shows it), and every such
 * example type-checks against the package as a user imports it (`@wrapp/wrapp`).
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

interface _DocTag {
  kind: string;
  doc?: string;
}

interface _DocSymbol {
  name: string;
  declarations: Array<{ jsDoc?: { tags?: _DocTag[] }; location: { filename: string } }>;
}

/** The exports of mod.ts as `deno doc --json` sees them. */
async function modExports(): Promise<_DocSymbol[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const json = JSON.parse(new TextDecoder().decode(output.stdout));
  const module = Object.entries(json.nodes as Record<string, { symbols: _DocSymbol[] }>)
    .find(([url]) => url.endsWith("/mod.ts"));
  assert.ok(module, "deno doc --json mod.ts has no node for mod.ts");
  return module[1].symbols;
}

/** The TypeScript code blocks of the `@example` tags of `symbol`. */
function exampleBlocks(symbol: _DocSymbol): string[] {
  const blocks: string[] = [];
  for (const declaration of symbol.declarations) {
    for (const tag of declaration.jsDoc?.tags ?? []) {
      if (tag.kind !== "example") continue;
      for (const match of (tag.doc ?? "").matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
        blocks.push(match[1]);
      }
    }
  }
  return blocks;
}

const exports = await modExports();

Deno.test("mod.ts exports the library's API (a sanity check of the listing below)", () => {
  const names = exports.map((symbol) => symbol.name);
  for (const name of ["runService", "loadConfig", "Router", "MemorySink", "WrappError"]) {
    assert.ok(names.includes(name), `${name} is not among ${names.join(", ")}`);
  }
});

Deno.test("every export of mod.ts has an @example with a ts code block in its JSDoc", () => {
  const without = exports.filter((symbol) => exampleBlocks(symbol).length === 0).map(
    (symbol) => `${symbol.name} (${symbol.declarations[0]?.location.filename})`,
  );
  assert.deepEqual(without, [], `exports of mod.ts without an @example:\n${without.join("\n")}`);
});

Deno.test("every @example of mod.ts's exports type-checks, importing from @wrapp/wrapp", async () => {
  // Inside the repository, so deno.json maps "@wrapp/wrapp" to mod.ts as for a user.
  const dir = await Deno.makeTempDir({ dir: ROOT, prefix: ".mod_examples_" });
  try {
    const files: string[] = [];
    for (const symbol of exports) {
      exampleBlocks(symbol).forEach((block, i) => {
        const file = `${dir}/${symbol.name}_${i}.ts`;
        files.push(file);
        // `export {}` keeps each example a module of its own, whatever it declares.
        Deno.writeTextFileSync(file, `${block}\nexport {};\n`);
      });
    }
    assert.ok(files.length >= exports.length);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...files],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, `an @example does not type-check:\n${text}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
