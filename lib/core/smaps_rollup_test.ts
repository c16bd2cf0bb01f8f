import assert from "node:assert/strict";
import {
  kernelPageSizeKb,
  parseProcStatus,
  parseSmapsRollup,
  readProcessMemory,
} from "./smaps_rollup.ts";

Deno.test("parseSmapsRollup() reads Rss, Anonymous, Pss_Shmem and Swap", () => {
  const text = `55d0c8a00000-7ffd5a1f2000 ---p 00000000 00:00 0                          [rollup]
Rss:               84000 kB
Pss:               80000 kB
Pss_Anon:          65600 kB
Pss_File:          14000 kB
Pss_Shmem:           400 kB
Anonymous:         65600 kB
Swap:                 12 kB
`;
  assert.deepEqual(parseSmapsRollup(text), {
    rssKb: 84000,
    anonKb: 65600,
    fileKb: 18000,
    shmemKb: 400,
    swapKb: 12,
  });
});

Deno.test("parseProcStatus() reads the Rss lines of /proc/pid/status", () => {
  const text = "Name:\tapp\nVmRSS:\t  84000 kB\nRssAnon:\t  65600 kB\nRssFile:\t  18000 kB\n" +
    "RssShmem:\t  400 kB\nVmSwap:\t 0 kB\n";
  assert.deepEqual(parseProcStatus(text), {
    rssKb: 84000,
    anonKb: 65600,
    fileKb: 18000,
    shmemKb: 400,
    swapKb: 0,
  });
});

Deno.test("readProcessMemory() reads this process and nothing for a missing one", async () => {
  const memory = await readProcessMemory(Deno.pid);
  assert.ok(memory && memory.rssKb > 1000);
  assert.equal(await readProcessMemory(999_999_999), undefined);
  assert.ok([4, 16, 64].includes(await kernelPageSizeKb()));
});

Deno.test("readProcessMemory() gives no sample for a process that has released its memory", async () => {
  // An exiting process (or a kernel thread) has an empty smaps_rollup: not a sample of zeros.
  const proc = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${proc}/42`);
    await Deno.writeTextFile(`${proc}/42/smaps_rollup`, "");
    assert.equal(await readProcessMemory(42, proc), undefined);
  } finally {
    await Deno.remove(proc, { recursive: true });
  }
});
