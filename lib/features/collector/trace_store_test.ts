import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError, WrappError } from "../../core/errors.ts";
import { clearTraces, countEvents, findTrace, listTraces } from "./trace_store.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-store-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Write `<id>.jsonl` with `events` lines, modified at `seconds` past the epoch. */
async function trace(dir: string, id: string, events: number, seconds: number): Promise<void> {
  const path = join(dir, `${id}.jsonl`);
  await Deno.writeTextFile(path, '{"ph":"i"}\n'.repeat(events));
  await Deno.utime(path, seconds, seconds);
}

Deno.test("listTraces() lists .jsonl files oldest first with sizes and event counts", async () => {
  await withDir(async (dir) => {
    await trace(dir, "zeta", 3, 1000);
    await trace(dir, "alpha", 1, 2000);
    await Deno.writeTextFile(join(dir, "notes.txt"), "not a trace");
    await Deno.mkdir(join(dir, "sub.jsonl"));
    const traces = await listTraces(dir);
    assert.deepEqual(traces.map((t) => [t.id, t.events, t.bytes, t.modified.getTime()]), [
      ["zeta", 3, 33, 1_000_000],
      ["alpha", 1, 11, 2_000_000],
    ]);
    assert.deepEqual(await listTraces(join(dir, "missing")), []);
  });
});

Deno.test("countEvents() counts non-blank lines, and a last line without newline", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "t.jsonl");
    await Deno.writeTextFile(path, "a\n\n  \nb\r\nc");
    assert.equal(await countEvents(path), 3);
    await Deno.writeTextFile(path, "");
    assert.equal(await countEvents(path), 0);
  });
});

Deno.test("findTrace() picks latest by modification time, not by name", async () => {
  await withDir(async (dir) => {
    await trace(dir, "zzz-old", 1, 1000);
    await trace(dir, "aaa-new", 1, 2000);
    assert.deepEqual(await findTrace(dir, "latest"), {
      id: "aaa-new",
      path: join(dir, "aaa-new.jsonl"),
    });
    await assert.rejects(
      findTrace(join(dir, "none"), "latest"),
      /^WrappError: No traces in ".*none": nothing is latest$/,
    );
  });
});

Deno.test("findTrace() takes a trace id, a path, and suggests a close id", async () => {
  await withDir(async (dir) => {
    await trace(dir, "tr-build", 1, 1000);
    assert.deepEqual(await findTrace(dir, "tr-build"), {
      id: "tr-build",
      path: join(dir, "tr-build.jsonl"),
    });
    const path = join(dir, "tr-build.jsonl");
    assert.deepEqual(await findTrace("/elsewhere", path), { id: "tr-build", path });
    await assert.rejects(
      findTrace(dir, "tr-biuld"),
      (error: Error) => {
        assert.ok(error instanceof WrappError);
        assert.equal(
          error.message,
          `No trace "tr-biuld" in "${dir}" (did you mean "tr-build"?): see "wrapp list"`,
        );
        return true;
      },
    );
    await assert.rejects(findTrace(dir, "..x"), UsageError);
    await assert.rejects(
      findTrace(dir, "./missing.jsonl"),
      /Cannot read trace "\.\/missing\.jsonl": no such file or directory/,
    );
  });
});

Deno.test("clearTraces() removes only .jsonl files and says how many", async () => {
  await withDir(async (dir) => {
    await trace(dir, "a", 1, 1000);
    await trace(dir, "b", 1, 1000);
    await Deno.writeTextFile(join(dir, "keep.json"), "[]");
    assert.equal(await clearTraces(dir), 2);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.json"]);
    assert.equal(await clearTraces(dir), 0);
    assert.equal(await clearTraces(join(dir, "missing")), 0);
  });
});
