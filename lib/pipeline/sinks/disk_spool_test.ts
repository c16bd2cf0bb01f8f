import assert from "node:assert/strict";
import { DiskSpool, type DiskSpoolOptions } from "./disk_spool.ts";
import { SinkError } from "../../core/errors.ts";

interface Rec {
  n: number;
  text?: string;
}

async function withSpool(
  options: DiskSpoolOptions,
  body: (dir: string, open: () => Promise<DiskSpool<Rec>>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-spool-test-" });
  const opened: DiskSpool<Rec>[] = [];
  try {
    await body(dir, async () => {
      const spool = await DiskSpool.open<Rec>(dir, options);
      opened.push(spool);
      return spool;
    });
  } finally {
    for (const spool of opened) await spool.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function records(from: number, to: number): Rec[] {
  return Array.from({ length: to - from }, (_, i) => ({ n: from + i }));
}

/** Read and ack everything, in batches of `n`. */
async function drain(spool: DiskSpool<Rec>, n = 7): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const batch = await spool.readBatch(n);
    if (batch.length === 0) return out;
    out.push(...batch.map((r) => r.n));
    spool.ack(batch.length);
  }
}

async function segmentFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".jsonl")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("DiskSpool keeps order across many segments and deletes each once acknowledged", async () => {
  await withSpool({ segmentBytes: 200 }, async (dir, open) => {
    const spool = await open();
    spool.append(records(0, 50));
    spool.append(records(50, 100));
    assert.equal(spool.count, 100);
    assert.ok(spool.segments >= 4, `expected several segments, got ${spool.segments}`);
    assert.deepEqual(await drain(spool), records(0, 100).map((r) => r.n));
    assert.equal(spool.count, 0);
    assert.equal(spool.bytes, 0);
    assert.deepEqual(await segmentFiles(dir), []);
  });
});

Deno.test("DiskSpool.readBatch() peeks: the same records come back until acknowledged", async () => {
  await withSpool({}, async (_dir, open) => {
    const spool = await open();
    spool.append(records(0, 10));
    assert.deepEqual((await spool.readBatch(4)).map((r) => r.n), [0, 1, 2, 3]);
    assert.deepEqual((await spool.readBatch(4)).map((r) => r.n), [0, 1, 2, 3]);
    spool.ack(2);
    assert.deepEqual((await spool.readBatch(4)).map((r) => r.n), [2, 3, 4, 5]);
    assert.equal(spool.count, 8);
  });
});

Deno.test("DiskSpool appends while a reader works through the same segment", async () => {
  await withSpool({ segmentBytes: 1 << 20 }, async (_dir, open) => {
    const spool = await open();
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round++) {
      spool.append(records(next, next + 13));
      next += 13;
      const batch = await spool.readBatch(10);
      seen.push(...batch.map((r) => r.n));
      spool.ack(batch.length);
    }
    seen.push(...await drain(spool));
    assert.deepEqual(seen, records(0, next).map((r) => r.n));
  });
});

Deno.test("DiskSpool.open() replays what a previous spool left, without the acknowledged part", async () => {
  await withSpool({ segmentBytes: 300 }, async (_dir, open) => {
    const first = await open();
    first.append(records(0, 40).map((r) => ({ ...r, text: "é ünïcödé 🚀 \u0000" })));
    const batch = await first.readBatch(5);
    first.ack(batch.length);
    await first.close();

    const second = await open();
    assert.equal(second.recovery.records, 35);
    assert.equal(second.recovery.partialLines, 0);
    assert.equal(second.count, 35);
    const rest = await second.readBatch(1);
    assert.equal(rest[0].text, "é ünïcödé 🚀 \u0000");
    assert.deepEqual(await drain(second), records(5, 40).map((r) => r.n));
  });
});

Deno.test("DiskSpool.open() cuts a partially written last line and counts it", async () => {
  await withSpool({}, async (dir, open) => {
    const path = `${dir}/0000001000000000.jsonl`;
    await Deno.writeTextFile(path, '{"n":1}\n{"n":2}\n{"n":3}\n{"n":4,"te');
    const spool = await open();
    assert.deepEqual(spool.recovery, { segments: 1, records: 3, bytes: 24, partialLines: 1 });
    assert.equal(spool.skippedLines, 1);
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n{"n":2}\n{"n":3}\n');
    spool.append([{ n: 5 }]);
    assert.deepEqual(await drain(spool), [1, 2, 3, 5]);
  });
});

Deno.test("DiskSpool skips and counts a line that is not JSON", async () => {
  await withSpool({}, async (dir, open) => {
    await Deno.writeTextFile(`${dir}/0000001000000000.jsonl`, '{"n":1}\nnot json\n{"n":3}\n');
    const spool = await open();
    assert.equal(spool.count, 3);
    assert.deepEqual(await drain(spool), [1, 3]);
    assert.equal(spool.skippedLines, 1);
    assert.equal(spool.count, 0);
  });
});

Deno.test("DiskSpool.prepend() puts records before everything, also after a reopen", async () => {
  await withSpool({ segmentBytes: 100 }, async (_dir, open) => {
    const first = await open();
    first.append(records(10, 20));
    first.prepend(records(0, 10));
    await first.close();
    const second = await open();
    assert.deepEqual(await drain(second), records(0, 20).map((r) => r.n));
  });
});

Deno.test("DiskSpool never applies a saved position to a newer segment", async () => {
  await withSpool({}, async (_dir, open) => {
    const first = await open();
    first.append(records(0, 3));
    await first.readBatch(3);
    first.ack(1); // position saved for the head segment
    first.ack(2); // head deleted; the position must go with it
    first.prepend(records(100, 103));
    await first.close();
    const second = await open();
    assert.deepEqual(await drain(second), [100, 101, 102]);
  });
});

Deno.test("DiskSpool with drop_oldest stays under maxBytes and counts every record it drops", async () => {
  await withSpool(
    { maxBytes: 4096, segmentBytes: 512, policy: "drop_oldest" },
    async (_dir, open) => {
      const spool = await open();
      let dropped = 0;
      for (let i = 0; i < 1000; i += 10) {
        dropped += spool.append(records(i, i + 10));
        assert.ok(spool.bytes <= 4096, `spool grew to ${spool.bytes} bytes`);
      }
      assert.ok(dropped > 0);
      assert.equal(spool.droppedRecords, dropped);
      const kept = await drain(spool);
      assert.equal(kept.length + dropped, 1000);
      // What is left is the newest records, in order.
      assert.deepEqual(kept, records(1000 - kept.length, 1000).map((r) => r.n));
    },
  );
});

Deno.test("DiskSpool with drop_oldest spares the segment a reader holds", async () => {
  await withSpool(
    { maxBytes: 2048, segmentBytes: 256, policy: "drop_oldest" },
    async (_dir, open) => {
      const spool = await open();
      spool.append(records(0, 10));
      const held = await spool.readBatch(3);
      assert.deepEqual(held.map((r) => r.n), [0, 1, 2]);
      for (let i = 10; i < 500; i += 10) spool.append(records(i, i + 10));
      spool.ack(held.length);
      const rest = await drain(spool);
      assert.ok(spool.droppedRecords > 0);
      assert.equal(3 + rest.length + spool.droppedRecords, 500);
      assert.deepEqual(rest.slice(0, 3), [3, 4, 5]);
    },
  );
});

Deno.test("DiskSpool with block keeps every record past maxBytes and reports full", async () => {
  await withSpool({ maxBytes: 1024, segmentBytes: 256, policy: "block" }, async (_dir, open) => {
    const spool = await open();
    assert.equal(spool.full, false);
    assert.equal(spool.append(records(0, 200)), 0);
    assert.equal(spool.full, true);
    assert.equal(spool.droppedRecords, 0);
    assert.deepEqual(await drain(spool, 50), records(0, 200).map((r) => r.n));
    assert.equal(spool.full, false);
  });
});

Deno.test("DiskSpool.sync() puts appended lines in the segment file", async () => {
  await withSpool({ fsyncIntervalMs: 60_000 }, async (dir, open) => {
    const spool = await open();
    spool.append(records(0, 3));
    await spool.sync();
    const [name] = await segmentFiles(dir);
    assert.equal(await Deno.readTextFile(`${dir}/${name}`), '{"n":0}\n{"n":1}\n{"n":2}\n');
  });
});

Deno.test("DiskSpool.open() explains a folder it cannot use", async () => {
  const file = await Deno.makeTempFile();
  try {
    await assert.rejects(DiskSpool.open(`${file}/spool`), (error: unknown) => {
      assert.ok(error instanceof SinkError);
      assert.match(error.message, new RegExp(`^Cannot open spool "${file}/spool": `));
      return true;
    });
  } finally {
    await Deno.remove(file);
  }
});
