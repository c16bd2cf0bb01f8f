import assert from "node:assert/strict";
import {
  cpuPercent,
  parseProcStat,
  parseVmRss,
  processTree,
  type ProcStat,
  readProcessTable,
  treeUsage,
} from "./proc_usage.ts";

// A real line of /proc/<pid>/stat, from a process whose name holds a space and a ")".
const STAT =
  "4242 (my (odd) app) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 150 25 7 3 20 0 3 0 98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

Deno.test("parseProcStat() reads pid, parent and the CPU time of it and its reaped children", () => {
  assert.deepEqual(parseProcStat(STAT), { pid: 4242, ppid: 4200, cpuTicks: 150 + 25 + 7 + 3 });
});

Deno.test("parseProcStat() refuses a malformed line", () => {
  assert.equal(parseProcStat(""), undefined);
  assert.equal(parseProcStat("12 (x) S"), undefined);
  assert.equal(parseProcStat("12 (x) S 1 2 3 4 5 6 7 8 9 10 u s 1 2"), undefined);
});

Deno.test("parseVmRss() reads VmRSS in bytes, 0 without it", () => {
  const status = "Name:\tbash\nVmPeak:\t  9000 kB\nVmRSS:\t    3412 kB\nRssAnon:\t 1000 kB\n";
  assert.equal(parseVmRss(status), 3412 * 1024);
  assert.equal(parseVmRss("Name:\tkworker/0:1\nState:\tI (idle)\n"), 0);
});

Deno.test("processTree() finds every descendant and nothing else", () => {
  const stat = (pid: number, ppid: number): [number, ProcStat] => [pid, { pid, ppid, cpuTicks: 1 }];
  const table = new Map([
    stat(1, 0),
    stat(10, 1), // the service
    stat(11, 10),
    stat(12, 11),
    stat(13, 10),
    stat(20, 1), // another one
    stat(21, 20),
  ]);
  assert.deepEqual(processTree(table, 10).sort((a, b) => a - b), [10, 11, 12, 13]);
  assert.deepEqual(processTree(table, 99), []);
});

Deno.test("cpuPercent() is percent of one core over the window, never negative", () => {
  assert.equal(cpuPercent(100, 150, 1000), 50); // 50 ticks = 500 ms in 1 s
  assert.equal(cpuPercent(0, 300, 1000), 300); // three cores
  assert.equal(cpuPercent(200, 150, 1000), 0);
  assert.equal(cpuPercent(0, 10, 0), 0);
});

Deno.test("readProcessTable() and treeUsage() sum the CPU time and RSS of a tree in a /proc", async () => {
  const proc = await Deno.makeTempDir();
  try {
    const process = async (pid: number, ppid: number, ticks: number, rssKb?: number) => {
      await Deno.mkdir(`${proc}/${pid}`);
      await Deno.writeTextFile(
        `${proc}/${pid}/stat`,
        `${pid} (p ${pid}) S ${ppid} 1 1 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 5 0 0`,
      );
      const rss = rssKb === undefined ? "" : `VmRSS:\t${rssKb} kB\n`;
      await Deno.writeTextFile(`${proc}/${pid}/status`, `Name:\tp\n${rss}`);
    };
    await process(1, 0, 5, 100);
    await process(40, 1, 30, 2000); // the service
    await process(41, 40, 12, 500); // its child
    await process(42, 41, 0); // a zombie grandchild: no VmRSS
    await process(50, 1, 99, 9000); // someone else
    await Deno.mkdir(`${proc}/self`);
    await Deno.writeTextFile(`${proc}/60`, "not a folder"); // ignored
    const table = await readProcessTable(proc);
    assert.deepEqual([...table.keys()].sort((a, b) => a - b), [1, 40, 41, 42, 50]);
    const usage = await treeUsage(table, 40, proc);
    assert.deepEqual(usage && { ...usage, pids: usage.pids.sort() }, {
      pids: [40, 41, 42],
      cpuTicks: 42,
      rssBytes: 2500 * 1024,
    });
    assert.equal(await treeUsage(table, 77, proc), undefined);
  } finally {
    await Deno.remove(proc, { recursive: true });
  }
});
