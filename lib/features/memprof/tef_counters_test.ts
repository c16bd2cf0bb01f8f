import assert from "node:assert/strict";
import { checkTraceFileText } from "../../pipeline/tef/perfetto_rules.ts";
import { memoryCounterEvents, writeTefCounters } from "./tef_counters.ts";

const SAMPLES = [
  { time: 1_700_000_000_000, residentKb: 0, cacheKb: 0, rssKb: 1000, anonKb: 200 },
  { time: 1_700_000_001_000.5, residentKb: 65536, cacheKb: 8192, rssKb: 67000, anonKb: 65800 },
  { time: 1_700_000_002_000, residentKb: 65536, cacheKb: 8192 },
];

Deno.test("memoryCounterEvents() makes counter tracks Perfetto accepts", () => {
  const events = memoryCounterEvents(SAMPLES, { pid: 4242, name: "memprof app" });
  assert.equal(events.length, 1 + 2 + 2 + 1);
  assert.deepEqual(events[0], {
    ph: "M",
    name: "process_name",
    pid: 4242,
    args: { name: "memprof app" },
  });
  assert.deepEqual(events[3], {
    ph: "C",
    name: "attributed kB",
    ts: 1_700_000_001_000_500,
    pid: 4242,
    tid: 4242,
    args: { resident: 65536, cache: 8192 },
  });
  assert.deepEqual(checkTraceFileText(JSON.stringify(events)), []);
});

Deno.test("writeTefCounters() writes an array-form trace and names a folder it cannot write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-tef-counters-" });
  try {
    await writeTefCounters(`${dir}/memory.json`, SAMPLES, { pid: 7 });
    const text = await Deno.readTextFile(`${dir}/memory.json`);
    assert.ok(text.startsWith('[{"'));
    assert.deepEqual(checkTraceFileText(text), []);
    assert.equal(JSON.parse(text).length, 6);
    await assert.rejects(
      () => writeTefCounters(`${dir}/missing/memory.json`, SAMPLES, { pid: 7 }),
      { message: `Cannot write "${dir}/missing/memory.json": no such file or directory` },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
