/**
 * The layering check (.ci/layers.ts, `deno task layers`) finds imports that go up a layer
 * or across features, with file and line, in a small repository made for each test.
 */

import assert from "node:assert/strict";
import { checkLayers, judge, type Layer, LAYERS, placeOf, relativeImports } from "../.ci/layers.ts";
import { tempDir } from "./_helpers.ts";

const HOUSE: Layer[] = [
  { name: "core", parts: { core: ["lib/core/"] } },
  { name: "pipeline", parts: { pipeline: ["lib/pipeline/"] } },
  {
    name: "features",
    features: true,
    parts: { run: ["lib/run/"], trace: ["lib/trace/"], memprof: ["lib/memprof/"] },
  },
  { name: "cli", parts: { cli: ["lib/cli/", "main.ts", "mod.ts"] } },
];

Deno.test("relativeImports() finds static, type, re-export and literal dynamic imports, not comments", () => {
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../b.ts";`,
    `export { c } from "./c.ts";`,
    `// import { d } from "./d.ts";`,
    `/* import("./e.ts") */`,
    `const f = await import("./f.ts");`,
    `import "./g.ts";`,
    `import x from "npm:smol-toml";`,
  ].join("\n");
  assert.deepEqual(relativeImports(text), [
    { specifier: "./a.ts", line: 1 },
    { specifier: "../b.ts", line: 2 },
    { specifier: "./c.ts", line: 3 },
    { specifier: "./f.ts", line: 6 },
    { specifier: "./g.ts", line: 7 },
  ]);
});

Deno.test("judge() allows going down and within a feature, refuses up and across features", () => {
  assert.equal(judge("lib/run/a.ts", "lib/core/b.ts", HOUSE), undefined);
  assert.equal(judge("lib/run/a.ts", "lib/run/b.ts", HOUSE), undefined);
  assert.equal(judge("lib/cli/a.ts", "lib/trace/b.ts", HOUSE), undefined);
  assert.equal(judge("lib/core/a.ts", "lib/pipeline/b.ts", HOUSE), "up from core to pipeline");
  assert.equal(
    judge("lib/run/a.ts", "lib/trace/b.ts", HOUSE),
    "across features, from run to trace",
  );
  assert.equal(
    judge("lib/run/a.ts", "lib/elsewhere/b.ts", HOUSE),
    "lib/elsewhere/b.ts is in no layer",
  );
  // Another feature's mod.ts is its public face; its other files are its internals.
  assert.equal(judge("lib/run/a.ts", "lib/memprof/mod.ts", HOUSE), undefined);
  assert.equal(
    judge("lib/run/a.ts", "lib/memprof/session.ts", HOUSE),
    "across features, from run to memprof",
  );
  // A test belongs where the file it tests does.
  assert.deepEqual(placeOf("lib/run/a_test.ts", HOUSE), { layer: 2, part: "run" });
});

Deno.test("checkLayers() names each offending import by file and line", async () => {
  await using dir = await tempDir();
  const write = async (path: string, text: string) => {
    await Deno.mkdir(`${dir.path}/${path.split("/").slice(0, -1).join("/")}`, {
      recursive: true,
    });
    await Deno.writeTextFile(`${dir.path}/${path}`, text);
  };
  await write("main.ts", `import { run } from "./lib/cli/run.ts";\n`);
  await write("mod.ts", `export * from "./lib/core/event.ts";\n`);
  await write("lib/cli/run.ts", `import { s } from "../run/supervisor.ts";\n`);
  await write("lib/core/event.ts", `\nimport type { R } from "../run/crash.ts";\n`);
  await write("lib/run/supervisor.ts", `import { t } from "../trace/tracer.ts";\n`);
  await write("lib/run/crash.ts", `export type R = number;\n`);
  await write("lib/trace/tracer.ts", `import { e } from "../core/event.ts";\n`);
  await write("lib/trace/mod.ts", `export * from "./tracer.ts";\nimport "../memprof/mod.ts";\n`);
  await write("lib/memprof/mod.ts", `import { t } from "../trace/mod.ts";\n`);
  const violations = await checkLayers(`${dir.path}/`, HOUSE);
  assert.deepEqual(violations.map((v) => `${v.file}:${v.line}: ${v.target}: ${v.why}`), [
    "lib/core/event.ts:2: lib/run/crash.ts: up from core to features",
    "lib/run/supervisor.ts:1: lib/trace/tracer.ts: across features, from run to trace",
    // Through their mod.ts, but in a loop.
    "lib/memprof/mod.ts:1: lib/trace/mod.ts: features memprof and trace use each other",
    "lib/trace/mod.ts:2: lib/memprof/mod.ts: features trace and memprof use each other",
  ]);
});

Deno.test("every file of the repository is in a layer", async () => {
  const unplaced = (await checkLayers(undefined, LAYERS)).filter((v) =>
    v.why.endsWith("in no layer")
  );
  assert.deepEqual(unplaced, []);
});
