import assert from "node:assert/strict";
import { join } from "node:path";
import { assembleTrace, EMPTY_TRACE_EVENT } from "./assemble_trace.ts";
import { checkTraceFileText } from "./perfetto_rules.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-assemble-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function instant(n: number): string {
  return JSON.stringify({ ph: "i", ts: n, pid: 1, tid: 2, name: `line ${n}`, s: "t" });
}

Deno.test("assembleTrace() writes the lines as an array, in order", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "e.jsonl"), [0, 1, 2].map(instant).join("\n") + "\n");
    const result = await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    assert.deepEqual(result, { events: 3, skipped: 0 });
    const text = await Deno.readTextFile(join(dir, "trace.json"));
    assert.deepEqual(checkTraceFileText(text), []);
    assert.deepEqual(JSON.parse(text).map((e: { ts: number }) => e.ts), [0, 1, 2]);
  });
});

Deno.test("assembleTrace() skips a last line cut off by a crash", async () => {
  await withDir(async (dir) => {
    const cut = instant(2).slice(0, 20);
    await Deno.writeTextFile(join(dir, "e.jsonl"), `${instant(0)}\n${instant(1)}\n${cut}`);
    const result = await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    assert.deepEqual(result, { events: 2, skipped: 1 });
    const text = await Deno.readTextFile(join(dir, "trace.json"));
    assert.deepEqual(checkTraceFileText(text), []);
    assert.equal(JSON.parse(text).length, 2);
  });
});

Deno.test("assembleTrace() keeps a complete last line that lacks its newline", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "e.jsonl"), `${instant(0)}\n${instant(1)}`);
    assert.deepEqual(await assembleTrace(join(dir, "e.jsonl"), join(dir, "t.json")), {
      events: 2,
      skipped: 0,
    });
  });
});

Deno.test("assembleTrace() skips and counts blank, invalid and non-event lines", async () => {
  await withDir(async (dir) => {
    const lines = [
      instant(0),
      "",
      "   ",
      "not json",
      "[1,2]",
      '{"no":"ph"}',
      "42",
      instant(1),
      "\r",
    ];
    await Deno.writeTextFile(join(dir, "e.jsonl"), lines.join("\n") + "\n");
    const result = await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    assert.deepEqual(result, { events: 2, skipped: 7 });
    assert.deepEqual(checkTraceFileText(await Deno.readTextFile(join(dir, "trace.json"))), []);
  });
});

Deno.test('assembleTrace() re-serialises a first line with spaces so the file starts with [{"', async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "e.jsonl"),
      '  { "ph": "M", "pid": 1, "name": "process_name", "args": { "name": "a" } }\r\n',
    );
    await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    const text = await Deno.readTextFile(join(dir, "trace.json"));
    assert.ok(text.startsWith('[{"ph":"M"'), text);
    assert.deepEqual(checkTraceFileText(text), []);
  });
});

Deno.test("assembleTrace() turns an empty recording into a valid, non-empty trace", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "e.jsonl"), "");
    const result = await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    assert.deepEqual(result, { events: 0, skipped: 0 });
    const text = await Deno.readTextFile(join(dir, "trace.json"));
    assert.deepEqual(checkTraceFileText(text), []);
    assert.deepEqual(JSON.parse(text), [EMPTY_TRACE_EVENT]);
  });
});

Deno.test("assembleTrace() keeps invalid UTF-8 visible as U+FFFD instead of failing", async () => {
  await withDir(async (dir) => {
    const bytes = new TextEncoder().encode('{"ph":"i","ts":1,"pid":1,"tid":1,"name":"x\u00e9"}\n');
    bytes[bytes.length - 4] = 0xff; // Break the é.
    await Deno.writeFile(join(dir, "e.jsonl"), bytes);
    assert.deepEqual(await assembleTrace(join(dir, "e.jsonl"), join(dir, "t.json")), {
      events: 1,
      skipped: 0,
    });
    assert.match(JSON.parse(await Deno.readTextFile(join(dir, "t.json")))[0].name, /^x\uFFFD/);
  });
});

Deno.test("assembleTrace() replaces an existing trace and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "trace.json"), "old");
    await Deno.writeTextFile(join(dir, "e.jsonl"), instant(0) + "\n");
    await assembleTrace(join(dir, "e.jsonl"), join(dir, "trace.json"));
    assert.deepEqual(checkTraceFileText(await Deno.readTextFile(join(dir, "trace.json"))), []);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["e.jsonl", "trace.json"]);
  });
});

Deno.test("assembleTrace() fails on a missing input and leaves the old trace alone", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "trace.json"), "old");
    await assert.rejects(
      assembleTrace(join(dir, "missing.jsonl"), join(dir, "trace.json")),
      Deno.errors.NotFound,
    );
    assert.equal(await Deno.readTextFile(join(dir, "trace.json")), "old");
  });
});

// Under qemu (the aarch64 lane sets WRAPP_TEST_EMULATED) everything is ~40x slower: test
// the same streaming with fewer events there, and leave the time bound to native runs.
const emulated = Deno.env.get("WRAPP_TEST_EMULATED") === "1";

Deno.test("assembleTrace() streams 1,000,000 events in order", async () => {
  await withDir(async (dir) => {
    const count = emulated ? 100_000 : 1_000_000;
    const jsonl = join(dir, "e.jsonl");
    {
      using file = await Deno.open(jsonl, { write: true, createNew: true });
      const encoder = new TextEncoder();
      for (let start = 0; start < count; start += 50_000) {
        const lines = [];
        for (let n = start; n < start + 50_000; n++) lines.push(instant(n));
        const bytes = encoder.encode(lines.join("\n") + "\n");
        for (let offset = 0; offset < bytes.length;) {
          offset += await file.write(bytes.subarray(offset));
        }
      }
    }
    const started = performance.now();
    const result = await assembleTrace(jsonl, join(dir, "trace.json"));
    const elapsed = performance.now() - started;
    assert.deepEqual(result, { events: count, skipped: 0 });
    if (!emulated) assert.ok(elapsed < 20_000, `took ${Math.round(elapsed)} ms`);

    const text = await Deno.readTextFile(join(dir, "trace.json"));
    assert.ok(text.startsWith(`[${instant(0)},\n`));
    const events = JSON.parse(text) as { ts: number }[];
    assert.equal(events.length, count);
    assert.equal(events[0].ts, 0);
    assert.equal(events[count - 1].ts, count - 1);
    assert.ok(events.every((event, i) => event.ts === i), "order preserved");
  });
});
