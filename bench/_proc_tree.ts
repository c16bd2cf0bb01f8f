/**
 * A wrapper's process tree read from /proc, for the side-by-side benchmarks: the wrapper pid
 * and its descendants, split into the wrapper's own processes, the bpftrace crash watcher it
 * may spawn, and the service (the top-most descendant whose argv[0] is the service's
 * executable, with everything under it). Linux only.
 *
 * @module
 */

/** One process as /proc/<pid>/stat shows it. */
interface _Stat {
  ppid: number;
  comm: string;
  /** utime + stime of all its threads, in clock ticks. */
  ticks: number;
}

/** The processes of one tree at one moment, by role. */
export interface TreeSnapshot {
  /** The wrapper and its helpers (not the watcher, not the service). */
  readonly wrapper: number[];
  /** bpftrace processes (the crash watcher), outside the service's subtree. */
  readonly watcher: number[];
  /** The service and its descendants. */
  readonly service: number[];
  /** CPU ticks (utime + stime) of every pid above. */
  readonly ticks: ReadonlyMap<number, number>;
}

/** Memory figures of some processes, in KiB. */
export interface Memory {
  /** Sum of VmRSS. */
  rss: number;
  /** Sum of VmHWM (each process's own peak RSS). */
  hwm: number;
  /** Sum of Pss from smaps_rollup (0 unless asked for). */
  pss: number;
  /** Sum of RssAnon: the pages only this process has (heap, stacks), not its mapped files. */
  anon: number;
}

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on). */
export const CLK_TCK = 100;

const _decoder = new TextDecoder();

function _readStat(pid: number): _Stat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined; // gone
  }
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  return {
    ppid: Number(fields[1]),
    comm: text.slice(text.indexOf("(") + 1, close),
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}

/** The basename of a process's argv[0], or undefined when it is gone. */
function _argv0(pid: number): string | undefined {
  try {
    const bytes = Deno.readFileSync(`/proc/${pid}/cmdline`);
    const end = bytes.indexOf(0);
    const argv0 = _decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
    return argv0.slice(argv0.lastIndexOf("/") + 1);
  } catch {
    return undefined;
  }
}

/**
 * The tree under `root` (included unless `includeRoot` is false), split by role.
 * `service` is the basename of the service's executable (undefined: no service).
 */
export function snapshotTree(
  roots: readonly number[],
  service?: string,
  includeRoot = true,
): TreeSnapshot {
  const stats = new Map<number, _Stat>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    const stat = _readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const wrapper: number[] = [];
  const watcher: number[] = [];
  const serviceSide: number[] = [];
  const ticks = new Map<number, number>();
  const walk = (pid: number, role: "wrapper" | "service" | "skip") => {
    const stat = stats.get(pid);
    if (!stat) return;
    let mine = role;
    if (mine === "wrapper" && service !== undefined && _argv0(pid) === service) mine = "service";
    if (mine === "service") serviceSide.push(pid);
    else if (mine === "wrapper") (stat.comm === "bpftrace" ? watcher : wrapper).push(pid);
    if (mine !== "skip") ticks.set(pid, stat.ticks);
    for (const child of children.get(pid) ?? []) walk(child, mine === "skip" ? "wrapper" : mine);
  };
  for (const root of roots) walk(root, includeRoot ? "wrapper" : "skip");
  return { wrapper, watcher, service: serviceSide, ticks };
}

function _statusKiB(text: string, key: string): number {
  const at = text.indexOf(`\n${key}:`);
  if (at < 0) return 0;
  return parseInt(text.slice(at + key.length + 2).trimStart(), 10) || 0;
}

/** RSS, peak RSS and (with `pss`) PSS of `pids`, summed; processes gone meanwhile count 0. */
export function memoryOf(pids: readonly number[], pss = false): Memory {
  const total: Memory = { rss: 0, hwm: 0, pss: 0, anon: 0 };
  for (const pid of pids) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      total.rss += _statusKiB(status, "VmRSS");
      total.hwm += _statusKiB(status, "VmHWM");
      total.anon += _statusKiB(status, "RssAnon");
      if (pss) {
        total.pss += _statusKiB(
          "\n" + Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`),
          "Pss",
        );
      }
    } catch {
      // gone between the snapshot and now
    }
  }
  return total;
}

/** CPU seconds `pids` used between two snapshots (a pid new in `end` counts from 0). */
export function cpuSecondsBetween(
  start: TreeSnapshot,
  end: TreeSnapshot,
  pids: readonly number[],
): number {
  let ticks = 0;
  for (const pid of pids) ticks += (end.ticks.get(pid) ?? 0) - (start.ticks.get(pid) ?? 0);
  return ticks / CLK_TCK;
}
