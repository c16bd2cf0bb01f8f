import assert from "node:assert/strict";
import { join } from "node:path";
import { TraceWriter } from "./trace_writer.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-writer-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("TraceWriter appends lines in order, in few writes, with owner-only permissions", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "t.jsonl");
    const writer = new TraceWriter(path);
    for (let i = 0; i < 1000; i++) writer.append(`{"n":${i}}`);
    await writer.flush();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines, Array.from({ length: 1000 }, (_, i) => `{"n":${i}}`));
    const stats = writer.stats();
    assert.equal(stats.lines, 1000);
    assert.ok(stats.writes <= 2, `${stats.writes} writes`);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await writer.close();
    assert.throws(() => writer.append("x"), /closed/);
  });
});

Deno.test("TraceWriter writes a line within a few milliseconds without flush()", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "t.jsonl");
    const writer = new TraceWriter(path, { flushDelayMs: 5 });
    writer.append("a");
    const deadline = Date.now() + (Deno.env.get("WRAPP_TEST_EMULATED") === "1" ? 20_000 : 1000);
    while (Date.now() < deadline) {
      const text = await Deno.readTextFile(path).catch(() => "");
      if (text === "a\n") break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.equal(await Deno.readTextFile(path), "a\n");
    await writer.close();
  });
});

Deno.test("TraceWriter.exclusive() runs after earlier lines are written and before later ones", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "t.jsonl");
    const writer = new TraceWriter(path);
    writer.append("1");
    writer.append("2");
    const seen = writer.exclusive(() => Deno.readTextFile(path));
    writer.append("3");
    assert.match(await seen, /^1\n2\n/);
    await writer.flush();
    assert.equal(await Deno.readTextFile(path), "1\n2\n3\n");
    await writer.close();
  });
});

Deno.test("TraceWriter recreates a file and folder removed while it runs", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "sub", "t.jsonl");
    const writer = new TraceWriter(path);
    writer.append("1");
    await writer.flush();
    await Deno.remove(join(dir, "sub"), { recursive: true });
    writer.append("2");
    await writer.flush();
    assert.equal(await Deno.readTextFile(path), "2\n");
    assert.equal((await Deno.stat(join(dir, "sub"))).mode! & 0o777, 0o700);
    await writer.close();
  });
});

Deno.test("TraceWriter counts and reports a failed write, and goes on", async () => {
  await withDir(async (dir) => {
    const errors: string[] = [];
    // A folder where the file should be: every open fails.
    await Deno.mkdir(join(dir, "t.jsonl"));
    const writer = new TraceWriter(join(dir, "t.jsonl"), { onError: (m) => errors.push(m) });
    writer.append("1");
    writer.append("2");
    await writer.flush();
    assert.deepEqual(writer.stats(), { lines: 0, bytes: 0, writes: 0, dropped: 2, errors: 1 });
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^Cannot append 2 events to ".*t\.jsonl": is a directory$/);
    await writer.close();
  });
});

Deno.test("TraceWriter.waitForCapacity() holds producers above the high-water mark", async () => {
  await withDir(async (dir) => {
    const writer = new TraceWriter(join(dir, "t.jsonl"), {
      highWaterChars: 100,
      batchChars: 1 << 20,
      flushDelayMs: 50,
    });
    assert.equal(writer.waitForCapacity(), undefined);
    for (let i = 0; i < 20; i++) writer.append("0123456789");
    const wait = writer.waitForCapacity();
    assert.ok(wait);
    await wait;
    assert.equal(writer.pendingChars, 0);
    await writer.close();
  });
});
