import assert from "node:assert/strict";
import {
  parseChildren,
  parseSmapsRollupBytes,
  parseStatUsage,
  parseStatusRss,
  processTreePids,
  readProcessUsage,
  readTreeCpuTicks,
  readTreeUsage,
} from "./process_tree_usage.ts";

/** A stat line: utime 14, stime 15, cutime 16, cstime 17, num_threads 20. */
function _stat(pid: number, comm: string, ppid: number, ticks: number[], threads: number): string {
  const [utime, stime, cutime, cstime] = ticks;
  return `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194304 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 ${threads} 0 1234 1000000 250 18446744073709551615\n`;
}

const _ROLLUP = `55d0c0a00000-7ffd5e3f1000 ---p 00000000 00:00 0                          [rollup]
Rss:              104952 kB
Pss:              102400 kB
Pss_Anon:         102000 kB
Shared_Clean:       2552 kB
Anonymous:        102000 kB
Swap:                  0 kB
`;

async function _fakeProc(withChildrenFiles: boolean): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  const processes = [
    {
      pid: 100,
      ppid: 1,
      comm: "svc (main) x",
      ticks: [50, 10, 5, 5],
      threads: 3,
      tids: [100, 102, 103],
      children: { 100: "101 ", 103: "104" },
    },
    {
      pid: 101,
      ppid: 100,
      comm: "worker",
      ticks: [200, 0, 0, 0],
      threads: 1,
      tids: [101],
      children: {},
    },
    {
      pid: 104,
      ppid: 100,
      comm: "helper",
      ticks: [1, 1, 0, 0],
      threads: 1,
      tids: [104],
      children: {},
    },
    {
      pid: 200,
      ppid: 1,
      comm: "other",
      ticks: [999, 0, 0, 0],
      threads: 1,
      tids: [200],
      children: {},
    },
  ];
  for (const p of processes) {
    const dir = `${root}/${p.pid}`;
    await Deno.mkdir(`${dir}/fd`, { recursive: true });
    await Deno.writeTextFile(`${dir}/stat`, _stat(p.pid, p.comm, p.ppid, p.ticks, p.threads));
    for (const tid of p.tids) {
      await Deno.mkdir(`${dir}/task/${tid}`, { recursive: true });
      if (withChildrenFiles) {
        const text = (p.children as Record<number, string>)[tid] ?? "";
        await Deno.writeTextFile(`${dir}/task/${tid}/children`, text);
      }
    }
    for (let fd = 0; fd < 3 + p.pid % 100; fd++) await Deno.writeTextFile(`${dir}/fd/${fd}`, "");
  }
  await Deno.writeTextFile(`${root}/100/smaps_rollup`, _ROLLUP);
  // 101: no smaps_rollup (an old kernel): the RSS comes from status, no PSS.
  await Deno.writeTextFile(
    `${root}/101/status`,
    "Name:\tworker\nVmRSS:\t    2048 kB\nThreads:\t1\n",
  );
  // 104: releasing its memory on the way out: an empty rollup.
  await Deno.writeTextFile(`${root}/104/smaps_rollup`, "");
  return root;
}

Deno.test("parseStatUsage() sums the CPU times and reads the threads, whatever the command name", () => {
  const usage = parseStatUsage(_stat(7, "a) (b c", 3, [10, 20, 30, 40], 9));
  assert.deepEqual(usage, { state: "S", ppid: 3, cpuTicks: 100, threads: 9 });
  assert.equal(parseStatUsage("7 (x) S 3"), undefined);
  assert.equal(parseStatUsage("garbage"), undefined);
});

Deno.test("parseSmapsRollupBytes() and parseStatusRss() read kB as bytes", () => {
  assert.deepEqual(parseSmapsRollupBytes(_ROLLUP), { rss: 104952 * 1024, pss: 102400 * 1024 });
  assert.equal(parseSmapsRollupBytes(""), undefined);
  assert.equal(parseStatusRss("VmRSS:\t  12 kB\n"), 12 * 1024);
  assert.equal(parseStatusRss("Name:\tzombie\n"), 0);
});

Deno.test("parseChildren() reads a children file", () => {
  assert.deepEqual(parseChildren("12 345 \n"), [12, 345]);
  assert.deepEqual(parseChildren(""), []);
});

for (const withChildrenFiles of [true, false]) {
  const how = withChildrenFiles
    ? "the children files"
    : "a scan of /proc (no CONFIG_PROC_CHILDREN)";
  Deno.test(`processTreePids() finds the children of every thread through ${how}`, async () => {
    const procDir = await _fakeProc(withChildrenFiles);
    try {
      assert.deepEqual(processTreePids(100, { procDir }).sort(), [100, 101, 104]);
      assert.deepEqual(processTreePids(101, { procDir }), [101]);
      assert.deepEqual(processTreePids(999, { procDir }), []);
    } finally {
      await Deno.remove(procDir, { recursive: true });
    }
  });
}

Deno.test("readProcessUsage() reads RSS and PSS from smaps_rollup, else the RSS from status", async () => {
  const procDir = await _fakeProc(true);
  try {
    assert.deepEqual(readProcessUsage(100, { procDir }), {
      pid: 100,
      ppid: 1,
      cpuTicks: 70,
      threads: 3,
      rssBytes: 104952 * 1024,
      pssBytes: 102400 * 1024,
      fds: 3,
    });
    assert.deepEqual(readProcessUsage(101, { procDir }), {
      pid: 101,
      ppid: 100,
      cpuTicks: 200,
      threads: 1,
      rssBytes: 2048 * 1024,
      fds: 4,
    });
    assert.equal(readProcessUsage(104, { procDir })?.rssBytes, 0);
    assert.equal(readProcessUsage(999, { procDir }), undefined);
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});

Deno.test("readTreeUsage() and readTreeCpuTicks() sum the tree, and are undefined once the root is gone", async () => {
  const procDir = await _fakeProc(true);
  try {
    const tree = readTreeUsage(100, { procDir });
    assert.ok(tree);
    assert.equal(tree.pids[0], 100);
    assert.deepEqual([...tree.pids].sort(), [100, 101, 104]);
    assert.equal(tree.cpuTicks, 70 + 200 + 2);
    assert.equal(tree.threads, 5);
    assert.equal(tree.rssBytes, (104952 + 2048) * 1024);
    assert.equal(tree.pssBytes, 102400 * 1024);
    assert.equal(tree.fds, 3 + 4 + 7);
    assert.equal(readTreeUsage(999, { procDir }), undefined);
    assert.equal(readTreeCpuTicks(100, { procDir }), tree.cpuTicks);
    assert.equal(readTreeCpuTicks(101, { procDir }), 200);
    assert.equal(readTreeCpuTicks(999, { procDir }), undefined);
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});

Deno.test("processTreePids() reads a children file larger than its read buffer", async () => {
  const procDir = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  try {
    await Deno.mkdir(`${procDir}/10/task/10`, { recursive: true });
    await Deno.writeTextFile(`${procDir}/10/stat`, _stat(10, "many", 1, [0, 0, 0, 0], 1));
    const children = Array.from({ length: 5000 }, (_, i) => 100_000 + i);
    await Deno.writeTextFile(`${procDir}/10/task/10/children`, children.join(" ") + " ");
    assert.deepEqual(processTreePids(10, { procDir }), [10, ...children]);
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});
