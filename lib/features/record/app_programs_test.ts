import assert from "node:assert/strict";
import { SpawnError } from "../../core/errors.ts";
import {
  findAppProgram,
  findNeeds,
  missingProgramMessage,
  postgresqlBinDirs,
  requirePrograms,
} from "./app_programs.ts";

async function withFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-programs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function program(path: string): Promise<void> {
  await Deno.writeTextFile(path, "#!/bin/sh\n", { mode: 0o755 });
}

Deno.test("requirePrograms() names the first missing program and its Debian package", async () => {
  await withFolder(async (dir) => {
    await program(`${dir}/wrapp-fake-server`);
    const needs = [
      { program: "wrapp-fake-server", package: "fake-server" },
      { program: "wrapp-fake-bench", package: "fake-tools" },
    ];
    await assert.rejects(
      requirePrograms("fake", needs, { path: dir }),
      (e: unknown) =>
        e instanceof SpawnError && e.exitCode === 127 &&
        e.message ===
          'Cannot record "fake": wrapp-fake-bench is not installed (Debian package: fake-tools)',
    );
    await program(`${dir}/wrapp-fake-bench`);
    assert.deepEqual(await requirePrograms("fake", needs, { path: dir }), {
      "wrapp-fake-server": `${dir}/wrapp-fake-server`,
      "wrapp-fake-bench": `${dir}/wrapp-fake-bench`,
    });
  });
});

Deno.test("findNeeds() takes the first installed alternative, in order", async () => {
  await withFolder(async (dir) => {
    const need = [
      { program: "wrapp-fake-wrk", package: "wrk" },
      { program: "wrapp-fake-curl", package: "curl" },
    ];
    assert.deepEqual(await findNeeds([need], { path: dir }), [undefined]);
    assert.equal(
      missingProgramMessage("nginx", need),
      'Cannot record "nginx": neither wrapp-fake-wrk nor wrapp-fake-curl is installed (Debian packages: wrk or curl)',
    );
    await program(`${dir}/wrapp-fake-curl`);
    assert.deepEqual(await findNeeds([need], { path: dir }), [
      { program: "wrapp-fake-curl", path: `${dir}/wrapp-fake-curl` },
    ]);
    await program(`${dir}/wrapp-fake-wrk`);
    assert.equal((await findNeeds([need], { path: dir }))[0]?.program, "wrapp-fake-wrk");
  });
});

Deno.test("findAppProgram() searches the spec's folders before PATH", async () => {
  await withFolder(async (dir) => {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    await program(`${dir}/a/wrapp-fake`);
    await program(`${dir}/b/wrapp-fake`);
    const spec = { program: "wrapp-fake", package: "x", dirs: () => Promise.resolve([`${dir}/b`]) };
    assert.equal(await findAppProgram(spec, { path: `${dir}/a` }), `${dir}/b/wrapp-fake`);
  });
});

Deno.test("postgresqlBinDirs() lists Debian's version folders, newest first", async () => {
  await withFolder(async (dir) => {
    for (const v of ["9.6", "13", "15", "common"]) await Deno.mkdir(`${dir}/${v}`);
    assert.deepEqual(await postgresqlBinDirs(dir), [
      `${dir}/15/bin`,
      `${dir}/13/bin`,
      `${dir}/9.6/bin`,
    ]);
    assert.deepEqual(await postgresqlBinDirs(`${dir}/none`), []);
  });
});
