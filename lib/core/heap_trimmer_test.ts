import assert from "node:assert/strict";
import { HeapTrimmer, mallocTrim } from "./heap_trimmer.ts";
import { parseSmapsRollup } from "./smaps_rollup.ts";

const anonymousKiB = () =>
  parseSmapsRollup(Deno.readTextFileSync("/proc/self/smaps_rollup")).anonKb;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wait for `done`, however late a loaded machine fires timers (a minute at most). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, "the trim never ran");
    await sleep(10);
  }
}

Deno.test("HeapTrimmer trims once after activity, once more later, then never", async () => {
  let trims = 0;
  const trimmer = new HeapTrimmer({ quietMs: 40, followUpMs: 80, trim: () => (trims++, true) });
  for (let i = 0; i < 100; i++) trimmer.touch();
  assert.equal(trims, 0, "a touch trims later, never on the hot path");
  await until(() => trims > 0);
  assert.equal(trims, 1, "the touches rode on one timer");
  await until(() => trims > 1); // the follow-up
  await sleep(300);
  assert.equal(trims, 2, "nothing runs while nothing happens");
  trimmer.touch(); // new activity: a trim, and its follow-up
  await until(() => trims > 3);
  await sleep(300);
  assert.equal(trimmer.trims, 4);
  trimmer.close();
});

Deno.test("HeapTrimmer.close drops a pending trim and ignores later touches", async () => {
  let trims = 0;
  const trimmer = new HeapTrimmer({ quietMs: 20, trim: () => (trims++, true) });
  trimmer.touch();
  trimmer.close();
  trimmer.touch();
  await sleep(80);
  assert.equal(trims, 0);
});

Deno.test("mallocTrim gives freed C heap below a live block back to the kernel", () => {
  const c = Deno.dlopen(
    "libc.so.6",
    {
      malloc: { parameters: ["usize"], result: "pointer" },
      free: { parameters: ["pointer"], result: "void" },
    } as const,
  );
  try {
    // 64 KiB blocks stay in the heap (below glibc's mmap threshold); the last one, kept,
    // stops free() from shrinking the heap's top by itself: only a trim gives them back.
    const blocks = Array.from({ length: 1024 }, () => c.symbols.malloc(64n * 1024n));
    for (const block of blocks) {
      // Touch every page: the blocks are resident.
      const view = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(block!, 65536));
      for (let at = 0; at < view.length; at += 4096) view[at] = 1;
    }
    const keep = c.symbols.malloc(64n * 1024n);
    for (const block of blocks) c.symbols.free(block);
    const before = anonymousKiB();
    assert.equal(mallocTrim(), true, "glibc said it gave nothing back");
    const after = anonymousKiB();
    c.symbols.free(keep);
    assert.ok(
      before - after >= 32 * 1024,
      `anonymous memory ${before} → ${after} KiB, expected at least 32 MiB less`,
    );
  } finally {
    c.close();
  }
});
