import assert from "node:assert/strict";
import { findExecutable, findExecutableSync, findProgram } from "./find_executable.ts";

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

Deno.test("findExecutable() takes an empty or relative PATH folder from cwd, unless told to skip them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/bin`);
    await Deno.writeTextFile(`${dir}/bin/tool`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/here`, "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(await findExecutable("tool", { path: "bin", cwd: dir }), `${dir}/bin/tool`);
    assert.equal(await findExecutable("here", { path: "", cwd: dir }), `${dir}/here`);
    const skip = { relativeFolders: "skip" as const, cwd: dir };
    assert.equal(await findExecutable("tool", { ...skip, path: "bin" }), undefined);
    assert.equal(await findExecutable("here", { ...skip, path: ":" }), undefined);
    assert.equal(
      await findExecutable("tool", { ...skip, path: `bin:${dir}/bin` }),
      `${dir}/bin/tool`,
    );
    assert.equal(
      findExecutableSync("tool", { ...skip, path: `bin:${dir}/bin` }),
      `${dir}/bin/tool`,
    );
    assert.equal(findExecutableSync("here", { ...skip, path: `bin:${dir}/bin` }), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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
