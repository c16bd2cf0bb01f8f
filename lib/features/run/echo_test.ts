import assert from "node:assert/strict";
import { countLineEnds, Echo, isDevNull } from "./echo.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("Echo writes every chunk in order to a writer that keeps up", async () => {
  const out: string[] = [];
  const echo = new Echo({
    write: async (chunk) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const n = Math.min(3, chunk.length); // short writes too
      out.push(new TextDecoder().decode(chunk.subarray(0, n)));
      return n;
    },
  }, { maxQueuedBytes: 1000 });
  for (const text of ["one\n", "two\n", "three\n"]) echo.write(bytes(text));
  assert.deepEqual(await echo.close(1000), { chunks: 0, bytes: 0, lines: 0 });
  assert.equal(out.join(""), "one\ntwo\nthree\n");
});

Deno.test("Echo returns at once behind a stuck writer, drops what exceeds the bound, counts it and reports the first drop", async () => {
  const firsts: number[] = [];
  const echo = new Echo(
    { write: () => new Promise<number>(() => {}) }, // a reader that never reads
    { maxQueuedBytes: 10, onFirstDrop: (drops) => firsts.push(drops.bytes) },
  );
  echo.write(bytes("a\nb\nc\n")); // 6 bytes: queued (being written)
  echo.write(bytes("d\n")); // 8: queued
  echo.write(bytes("e\nf\n")); // 12 > 10: dropped
  echo.write(bytes("g\n")); // 10: queued
  echo.write(bytes("h")); // dropped
  assert.deepEqual(echo.drops, { chunks: 2, bytes: 5, lines: 2 });
  assert.equal(echo.queuedBytes, 10);
  assert.deepEqual(firsts, [4]);
  const started = performance.now();
  // At close, what the stuck writer did not take counts as dropped too.
  assert.deepEqual(await echo.close(50), { chunks: 5, bytes: 15, lines: 7 });
  // Not held by the stuck writer: its 50 ms, far below a second (qemu, the aarch64 lane,
  // once paused longer than that: there the bound is 20 s, still far below "never").
  const bound = Deno.env.get("WRAPP_TEST_EMULATED") === "1" ? 20_000 : 1000;
  assert.ok(performance.now() - started < bound);
  echo.write(bytes("after close\n"));
  assert.equal(echo.queuedBytes, 0);
  assert.deepEqual(firsts, [4]);
});

Deno.test("Echo counts only the unwritten rest of a chunk a stuck writer took in part", async () => {
  let calls = 0;
  const echo = new Echo({
    write: () => calls++ === 0 ? Promise.resolve(2) : new Promise<number>(() => {}),
  });
  echo.write(bytes("a\nb\nc\n"));
  echo.write(bytes("d\n"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(await echo.close(20), { chunks: 2, bytes: 6, lines: 3 });
});

Deno.test("Echo takes a chunk larger than the bound when nothing is queued", async () => {
  const out: Uint8Array[] = [];
  const echo = new Echo({ write: (chunk) => Promise.resolve(out.push(chunk) && chunk.length) }, {
    maxQueuedBytes: 2,
  });
  echo.write(bytes("0123456789\n"));
  assert.deepEqual(await echo.close(1000), { chunks: 0, bytes: 0, lines: 0 });
  assert.equal(out.length, 1);
});

Deno.test("Echo stops at a broken pipe and keeps the error", async () => {
  const echo = new Echo({ write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")) });
  echo.write(bytes("x\n"));
  await echo.close(1000);
  assert.ok(echo.broken instanceof Deno.errors.BrokenPipe);
  echo.write(bytes("y\n"));
  assert.equal(echo.queuedBytes, 0);
});

Deno.test("countLineEnds counts newline bytes", () => {
  assert.equal(countLineEnds(bytes("")), 0);
  assert.equal(countLineEnds(bytes("a\nb\n\nc")), 3);
});

Deno.test("Echo with discard takes every chunk without writing, and drops nothing", async () => {
  let writes = 0;
  const echo = new Echo({
    write: (chunk) => {
      writes++;
      return Promise.resolve(chunk.length);
    },
  }, { maxQueuedBytes: 4, discard: true });
  for (const text of ["one\n", "two\n", "three\n"]) echo.write(bytes(text));
  assert.equal(echo.queuedBytes, 0);
  assert.deepEqual(await echo.close(1000), { chunks: 0, bytes: 0, lines: 0 });
  assert.equal(writes, 0);
});

Deno.test("isDevNull() knows /dev/null from a file, another device and a missing path", async () => {
  assert.equal(isDevNull("/dev/null"), true);
  const file = await Deno.makeTempFile();
  try {
    assert.equal(isDevNull(file), false);
  } finally {
    await Deno.remove(file);
  }
  assert.equal(isDevNull("/dev/zero"), false);
  assert.equal(isDevNull("/nonexistent/stdout"), false);
});
