/**
 * CPU time and memory of a process tree, read from /proc by `wrapp ps` itself (the
 * supervising wrapp spends nothing on it): one pass over `/proc/<pid>/stat` finds every
 * process's parent, the tree under a service's main process is summed.
 *
 * @module
 */

import { CLOCK_TICKS_PER_SECOND, procStatFields } from "../../../core/proc_stat.ts";

/** The fields of `/proc/<pid>/stat` that `wrapp ps` uses. */
export interface ProcStat {
  /** The process id. */
  pid: number;
  /** Its parent's pid. */
  ppid: number;
  /**
   * CPU time in clock ticks: its own (utime + stime) and that of its children it has
   * waited for (cutime + cstime), so the time of a short-lived child is not lost when it
   * ends between two samples.
   */
  cpuTicks: number;
}

/** Parse `/proc/<pid>/stat`; `undefined` when malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  const fields = procStatFields(text);
  if (!fields) return undefined;
  const pid = Number(text.slice(0, text.indexOf(" ")));
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14 to 17.
  const ppid = Number(fields[1]);
  const times = fields.slice(11, 15).map(Number);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || times.length < 4) return undefined;
  if (times.some((t) => !Number.isFinite(t))) return undefined;
  return { pid, ppid, cpuTicks: times[0] + times[1] + times[2] + times[3] };
}

/** The resident set size in `/proc/<pid>/status` (`VmRSS:  1234 kB`), in bytes; 0 without one (a kernel thread, a zombie). */
export function parseVmRss(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** `root` and every process below it, from a table of every process (by pid). */
export function processTree(table: ReadonlyMap<number, ProcStat>, root: number): number[] {
  if (!table.has(root)) return [];
  const children = new Map<number, number[]>();
  for (const stat of table.values()) {
    const list = children.get(stat.ppid);
    if (list) list.push(stat.pid);
    else children.set(stat.ppid, [stat.pid]);
  }
  const tree: number[] = [];
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    tree.push(pid);
    stack.push(...children.get(pid) ?? []);
  }
  return tree;
}

/** Every process's `/proc/<pid>/stat` (processes that end while it reads are left out). */
export async function readProcessTable(proc = "/proc"): Promise<Map<number, ProcStat>> {
  const table = new Map<number, ProcStat>();
  const reads: Promise<void>[] = [];
  for await (const entry of Deno.readDir(proc)) {
    if (!/^\d+$/.test(entry.name)) continue;
    reads.push(
      Deno.readTextFile(`${proc}/${entry.name}/stat`).then((text) => {
        const stat = parseProcStat(text);
        if (stat) table.set(stat.pid, stat);
      }, () => {}),
    );
  }
  await Promise.all(reads);
  return table;
}

/** A process tree's use at one moment. */
export interface TreeUsage {
  /** The tree's processes. */
  pids: number[];
  /** Their CPU time, clock ticks (see {@linkcode ProcStat.cpuTicks}). */
  cpuTicks: number;
  /** The sum of their resident set sizes, bytes (pages shared between them count in each). */
  rssBytes: number;
}

/** The use of the tree under `root` (`undefined` when `root` is gone); RSS read from `proc`. */
export async function treeUsage(
  table: ReadonlyMap<number, ProcStat>,
  root: number,
  proc = "/proc",
): Promise<TreeUsage | undefined> {
  const pids = processTree(table, root);
  if (pids.length === 0) return undefined;
  let cpuTicks = 0;
  for (const pid of pids) cpuTicks += table.get(pid)!.cpuTicks;
  const sizes = await Promise.all(
    pids.map((pid) => Deno.readTextFile(`${proc}/${pid}/status`).then(parseVmRss, () => 0)),
  );
  return { pids, cpuTicks, rssBytes: sizes.reduce((a, b) => a + b, 0) };
}

/**
 * CPU use between two samples of the same tree, in percent of one core (200 % is two
 * cores busy, as in top and pm2); never negative (a process that left the tree takes its
 * time with it).
 */
export function cpuPercent(before: number, after: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  const ms = (after - before) * 1000 / CLOCK_TICKS_PER_SECOND;
  return Math.max(0, ms / elapsedMs * 100);
}
