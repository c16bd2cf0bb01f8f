import assert from "node:assert/strict";
import { join } from "node:path";
import { newRunId, prepareRunDir, RUN_ID_PATTERN } from "./run_dir.ts";
import { SinkError } from "../../core/errors.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-run-dir-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

/** Run ids one second apart, oldest first. */
function runIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => newRunId(new Date(Date.UTC(2025, 0, 2, 3, 4, i))));
}

Deno.test("newRunId() formats the UTC time and adds 6 random hex digits", () => {
  const id = newRunId(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)));
  assert.match(id, /^20250102-030405-[0-9a-f]{6}$/);
  assert.match(newRunId(), RUN_ID_PATTERN);
  assert.notEqual(newRunId(), newRunId());
});

Deno.test("newRunId() ids sort chronologically", () => {
  const ids = [
    new Date(Date.UTC(2024, 11, 31, 23, 59, 59)),
    new Date(Date.UTC(2025, 0, 1)),
    new Date(Date.UTC(2025, 9, 1)),
  ]
    .map((date) => newRunId(date));
  assert.deepEqual([...ids].sort(), ids);
});

Deno.test("prepareRunDir() creates the run folder and points latest at it", async () => {
  await withDir(async (dir) => {
    const [first, second] = runIds(2);
    const base = join(dir, "traces", "svc");
    assert.equal(await prepareRunDir(base, first), join(base, first));
    assert.ok((await Deno.stat(join(base, first))).isDirectory);
    assert.equal(await Deno.readLink(join(base, "latest")), first);

    await prepareRunDir(base, second);
    assert.equal(await Deno.readLink(join(base, "latest")), second);
    assert.deepEqual(await names(base), [first, second, "latest"]);
  });
});

Deno.test("prepareRunDir() keeps exactly keepRuns run folders and leaves other files alone", async () => {
  await withDir(async (dir) => {
    const ids = runIds(6);
    await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
    await Deno.mkdir(join(dir, "20200101-000000-zzzzzz")); // Not hex: not a run id.
    await Deno.mkdir(join(dir, "old-runs"));
    await Deno.writeTextFile(join(dir, "19990101-000000-abcdef"), "a file named like a run");
    for (const id of ids.slice(0, 5)) {
      await prepareRunDir(dir, id, { keepRuns: 3 });
      await Deno.writeTextFile(join(dir, id, "events.jsonl"), "{}\n");
    }
    await prepareRunDir(dir, ids[5], { keepRuns: 3 });
    assert.deepEqual(await names(dir), [
      "19990101-000000-abcdef",
      "20200101-000000-zzzzzz",
      ...ids.slice(3),
      "latest",
      "notes.txt",
      "old-runs",
    ]);
  });
});

Deno.test("prepareRunDir() never deletes the new run, even when its id sorts first", async () => {
  await withDir(async (dir) => {
    const [older, ...newer] = runIds(3);
    for (const id of newer) await prepareRunDir(dir, id, { keepRuns: 2 });
    await prepareRunDir(dir, older, { keepRuns: 2 }); // The clock went backwards.
    assert.deepEqual(await names(dir), [older, newer[1], "latest"]);
  });
});

Deno.test("prepareRunDir() refuses run ids that could escape the folder", async () => {
  await withDir(async (dir) => {
    for (const id of ["../x", "a/b", "", ".", "..", "latest"]) {
      await assert.rejects(prepareRunDir(dir, id), TypeError, id);
    }
    await assert.rejects(prepareRunDir(dir, runIds(1)[0], { keepRuns: 0 }), RangeError);
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("prepareRunDir() reports a folder it cannot create as a SinkError", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    const runDir = join(dir, "file", "run");
    const error = await prepareRunDir(join(dir, "file"), "run").catch((e) => e);
    assert.ok(error instanceof SinkError);
    assert.equal(error.exitCode, 74);
    assert.ok(error.message.startsWith(`Cannot create trace folder "${runDir}": `), error.message);
  });
});

Deno.test("prepareRunDir() leaves a latest that is not a symlink alone", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(join(dir, "latest"));
    await assert.rejects(
      prepareRunDir(dir, "run"),
      SinkError,
      `Cannot update "${join(dir, "latest")}": it exists and is not a symbolic link`,
    );
    assert.ok((await Deno.lstat(join(dir, "latest"))).isDirectory);
  });
});
