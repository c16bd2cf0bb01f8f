/**
 * What a process and everything it started use, read from /proc: CPU time, resident
 * memory (RSS and PSS), threads and open files. The metrics sampler of `wrapp run` reads
 * it every few seconds; anything that shows a process tree's usage can reuse it.
 *
 * The reads are synchronous on purpose: each /proc file answers in microseconds, and an
 * async read would wake wrapp's event loop once per file (see tests/idle_test.ts).
 *
 * Children are found through `/proc/<pid>/task/<tid>/children` (every thread's, since a
 * child belongs to the thread that forked it), or, on a kernel built without
 * `CONFIG_PROC_CHILDREN`, by scanning the parent pid of every process.
 *
 * @module
 */

import { procStatFields } from "../../core/proc_stat.ts";

/** The fields of `/proc/<pid>/stat` that measure usage. */
export interface StatUsage {
  /** State letter: `R`, `S`, `D`, `T`, `Z`… */
  state: string;
  /** Parent pid. */
  ppid: number;
  /** CPU time of the process, plus that of its children it has waited for, clock ticks. */
  cpuTicks: number;
  /** Threads. */
  threads: number;
}

/** The usage of one process. */
export interface ProcessUsage {
  /** Its pid. */
  pid: number;
  /** Its parent's pid. */
  ppid: number;
  /** CPU time, its own and its reaped children's, clock ticks (`CLOCK_TICKS_PER_SECOND`, core/proc_stat.ts). */
  cpuTicks: number;
  /** Threads. */
  threads: number;
  /** Resident memory, bytes; 0 for a zombie. */
  rssBytes: number;
  /** Proportional share of resident memory (shared pages divided among their users), bytes; undefined without `smaps_rollup` (Linux < 4.14) or permission. */
  pssBytes?: number;
  /** Open file descriptors; undefined without permission. */
  fds?: number;
}

/** The usage of a process tree, summed. */
export interface TreeUsage {
  /** The processes counted, the root first. */
  pids: number[];
  /** CPU time of the tree, clock ticks; includes children that ended and were reaped. */
  cpuTicks: number;
  /** Threads. */
  threads: number;
  /** Resident memory, bytes (pages shared between the processes count once per process, as `ps` shows). */
  rssBytes: number;
  /** Sum of PSS, bytes: shared pages counted once; undefined when no process had it. */
  pssBytes?: number;
  /** Open file descriptors; undefined when none could be counted. */
  fds?: number;
}

/** Options of the readers. */
export interface ProcOptions {
  /** Where procfs is mounted. Default `/proc`; tests point it at a fixture folder. */
  procDir?: string;
}

/** Parse `/proc/<pid>/stat`; undefined when malformed. */
export function parseStatUsage(text: string): StatUsage | undefined {
  const fields = procStatFields(text);
  if (!fields) return undefined;
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17, num_threads 20.
  const numbers = [1, 11, 12, 13, 14, 17].map((i) => Number(fields[i]));
  if (!fields[0] || numbers.some((n) => !Number.isInteger(n) || n < 0)) return undefined;
  const [ppid, utime, stime, cutime, cstime, threads] = numbers;
  return { state: fields[0], ppid, cpuTicks: utime + stime + cutime + cstime, threads };
}

/** `Rss` and `Pss` of `smaps_rollup` text, bytes; undefined when it has none (a process releasing its memory). */
export function parseSmapsRollupBytes(text: string): { rss: number; pss: number } | undefined {
  const rss = /^Rss:\s+(\d+) kB/m.exec(text);
  const pss = /^Pss:\s+(\d+) kB/m.exec(text);
  if (!rss || !pss) return undefined;
  return { rss: Number(rss[1]) * 1024, pss: Number(pss[1]) * 1024 };
}

/** `VmRSS` of `/proc/<pid>/status` text, bytes; 0 when absent (a zombie, a kernel thread). */
export function parseStatusRss(text: string): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Pids in the text of a `children` file ("12 345 "). */
export function parseChildren(text: string): number[] {
  return text.split(/\s+/).filter((word) => word !== "").map(Number).filter(Number.isInteger);
}

/** The usage of `pid`, or undefined when it is gone. */
export function readProcessUsage(pid: number, options: ProcOptions = {}): ProcessUsage | undefined {
  const dir = `${options.procDir ?? "/proc"}/${pid}`;
  const statText = _read(`${dir}/stat`);
  const stat = statText === undefined ? undefined : parseStatUsage(statText);
  if (!stat) return undefined;
  const usage: ProcessUsage = {
    pid,
    ppid: stat.ppid,
    cpuTicks: stat.cpuTicks,
    threads: stat.threads,
    rssBytes: 0,
  };
  const rollupText = _read(`${dir}/smaps_rollup`);
  const rollup = rollupText === undefined ? undefined : parseSmapsRollupBytes(rollupText);
  if (rollup) {
    usage.rssBytes = rollup.rss;
    usage.pssBytes = rollup.pss;
  } else if (rollupText === undefined) {
    // No smaps_rollup (Linux < 4.14) or no permission: the RSS from status, which anyone may read.
    const status = _read(`${dir}/status`);
    if (status !== undefined) usage.rssBytes = parseStatusRss(status);
  }
  // An empty rollup: the process is releasing its memory on the way out, so 0.
  try {
    let fds = 0;
    for (const _ of Deno.readDirSync(`${dir}/fd`)) fds++;
    usage.fds = fds;
  } catch {
    // no permission, or gone
  }
  return usage;
}

/**
 * `rootPid` and its descendants, the root first. Empty when the root is gone. A process
 * that left the tree (its parent died and it was reparented to init) is no longer in it.
 */
export function processTreePids(rootPid: number, options: ProcOptions = {}): number[] {
  const procDir = options.procDir ?? "/proc";
  if (_read(`${procDir}/${rootPid}/stat`) === undefined) return [];
  if (!_hasChildrenFiles(procDir, rootPid)) return _scanTree(rootPid, procDir);
  const pids = [rootPid];
  const seen = new Set(pids);
  for (let i = 0; i < pids.length; i++) {
    for (const tid of _listDir(`${procDir}/${pids[i]}/task`)) {
      const text = _read(`${procDir}/${pids[i]}/task/${tid}/children`);
      if (text === undefined) continue;
      for (const child of parseChildren(text)) {
        if (!seen.has(child)) {
          seen.add(child);
          pids.push(child);
        }
      }
    }
  }
  return pids;
}

/** The summed usage of `rootPid`'s process tree, or undefined when the root is gone. */
export function readTreeUsage(rootPid: number, options: ProcOptions = {}): TreeUsage | undefined {
  const tree: TreeUsage = { pids: [], cpuTicks: 0, threads: 0, rssBytes: 0 };
  for (const pid of processTreePids(rootPid, options)) {
    const usage = readProcessUsage(pid, options);
    if (!usage) continue; // ended while we looked
    tree.pids.push(pid);
    tree.cpuTicks += usage.cpuTicks;
    tree.threads += usage.threads;
    tree.rssBytes += usage.rssBytes;
    if (usage.pssBytes !== undefined) tree.pssBytes = (tree.pssBytes ?? 0) + usage.pssBytes;
    if (usage.fds !== undefined) tree.fds = (tree.fds ?? 0) + usage.fds;
  }
  return tree.pids[0] === rootPid ? tree : undefined;
}

/**
 * The CPU time of `rootPid`'s tree, clock ticks, from each process's `stat` alone (no
 * memory or fd reads: a sampler's baseline); undefined when the root is gone.
 */
export function readTreeCpuTicks(rootPid: number, options: ProcOptions = {}): number | undefined {
  const procDir = options.procDir ?? "/proc";
  let ticks: number | undefined;
  for (const pid of processTreePids(rootPid, options)) {
    const text = _read(`${procDir}/${pid}/stat`);
    const stat = text === undefined ? undefined : parseStatUsage(text);
    if (!stat) continue; // ended while we looked
    if (pid === rootPid) ticks = 0;
    if (ticks !== undefined) ticks += stat.cpuTicks;
  }
  return ticks;
}

const _childrenFiles = new Map<string, boolean>();

/** Whether this kernel has `task/<tid>/children` files (`CONFIG_PROC_CHILDREN`); asked once per procfs. */
function _hasChildrenFiles(procDir: string, pid: number): boolean {
  const known = _childrenFiles.get(procDir);
  if (known !== undefined) return known;
  try {
    Deno.statSync(`${procDir}/${pid}/task/${pid}/children`);
  } catch (error) {
    // Only a missing file of a thread that exists says the kernel has none.
    if (!(error instanceof Deno.errors.NotFound)) return true;
    if (_listDir(`${procDir}/${pid}/task`).length === 0) return true; // gone: ask again next time
    _childrenFiles.set(procDir, false);
    return false;
  }
  _childrenFiles.set(procDir, true);
  return true;
}

/** Descendants of `rootPid` from the parent pid of every process. */
function _scanTree(rootPid: number, procDir: string): number[] {
  const children = new Map<number, number[]>();
  for (const name of _listDir(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    const text = _read(`${procDir}/${name}/stat`);
    const stat = text === undefined ? undefined : parseStatUsage(text);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(Number(name));
    else children.set(stat.ppid, [Number(name)]);
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) pids.push(...children.get(pids[i]) ?? []);
  return pids;
}

const _buffer = new Uint8Array(16384);
const _decoder = new TextDecoder();

/**
 * The text of a small /proc file, or undefined when it cannot be read. One open and read
 * into a shared buffer: a third of `readTextFileSync`'s cost, which first asks the size
 * (0 for /proc files) and then reads in growing chunks — still used for a file larger
 * than the buffer (a children file of thousands of pids).
 */
function _read(path: string): string | undefined {
  let length = 0;
  try {
    const file = Deno.openSync(path);
    try {
      let n: number | null;
      while (length < _buffer.length && (n = file.readSync(_buffer.subarray(length))) !== null) {
        length += n;
      }
    } finally {
      file.close();
    }
    return length < _buffer.length
      ? _decoder.decode(_buffer.subarray(0, length))
      : Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function _listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name);
  } catch {
    return [];
  }
}
