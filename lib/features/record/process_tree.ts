/**
 * Reading a process tree from /proc: who a process's children are, its threads and
 * their names, its title and when it started. `wrapp record` samples this to name the
 * tracks of the trace and to draw each process's lifetime.
 *
 * @module
 */

import { basename } from "node:path";
import { procStatFields } from "../../core/proc_stat.ts";

/** The fields of `/proc/<pid>/stat` wrapp uses. */
export interface ProcStat {
  /** The thread's name (`comm`, at most 15 bytes). */
  comm: string;
  /** State letter: `R`, `S`, `D`, `T`, `Z`… */
  state: string;
  /** Parent pid. */
  ppid: number;
  /** Start time, clock ticks after boot. */
  startTicks: number;
}

/** Parse `/proc/<pid>/stat`; `undefined` when malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  // The name is between the first "(" and the last ")" (it may hold both).
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = procStatFields(text);
  if (open < 0 || close < open || !fields) return undefined;
  // fields[0] is field 3 (state); starttime is field 22.
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!Number.isInteger(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { comm: text.slice(open + 1, close), state: fields[0], ppid, startTicks };
}

/**
 * A readable name for a process from its `cmdline` (NUL-separated; servers such as
 * nginx, postgres and redis rewrite it into a title) and `comm`: the program's base
 * name and its arguments, at most `maxChars` long; `comm` when the cmdline is empty
 * (a zombie, a kernel thread).
 */
export function processTitle(cmdline: string, comm: string, maxChars = 80): string {
  const words = cmdline.split("\0").filter((w, i, all) => w !== "" || i < all.length - 1);
  if (words.length === 0 || words[0] === "") return comm;
  // A title set with setproctitle is one word holding spaces ("/usr/bin/redis-server
  // 127.0.0.1:6379"): shorten only the path at its start.
  const space = words[0].indexOf(" ");
  const program = space < 0 ? words[0] : words[0].slice(0, space);
  const first = (program.startsWith("/") ? basename(program) : program) +
    (space < 0 ? "" : words[0].slice(space));
  const title = [first, ...words.slice(1)].join(" ").trim();
  return title.length <= maxChars ? title : `${title.slice(0, maxChars - 1)}…`;
}

/**
 * The name to keep for a process from the titles it showed, oldest first: the last one;
 * but when it keeps changing (a PostgreSQL backend shows its current statement: `…
 * [local] UPDATE`, `… [local] idle`), the words its later titles share (`postgres:
 * postgres postgres [local]`). The first title is left out of that: a child shows its
 * parent's title until it sets its own.
 */
export function settledTitle(titles: readonly string[]): string {
  const later = titles.slice(1);
  if (later.length >= 3) {
    const words = later.map((title) => title.split(" "));
    const shared: string[] = [];
    for (let i = 0; words.every((w) => i < w.length && w[i] === words[0][i]); i++) {
      shared.push(words[0][i]);
    }
    if (shared.length > 0) return shared.join(" ");
  }
  return titles.at(-1) ?? "";
}

/** Milliseconds since the epoch at which the machine booted (from `/proc/uptime`, ±10 ms). */
export async function bootTimeMs(procDir = "/proc"): Promise<number> {
  const uptime = Number((await Deno.readTextFile(`${procDir}/uptime`)).split(" ")[0]);
  return Date.now() - uptime * 1000;
}

/** `stat` of a process or thread, `undefined` when it is gone. */
export async function readProcStat(
  pid: number,
  procDir = "/proc",
): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await Deno.readTextFile(`${procDir}/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** The title of a process ({@linkcode processTitle}), `undefined` when it is gone. */
export async function readProcessTitle(
  pid: number,
  procDir = "/proc",
): Promise<string | undefined> {
  try {
    const cmdline = await Deno.readTextFile(`${procDir}/${pid}/cmdline`);
    const comm = (await Deno.readTextFile(`${procDir}/${pid}/comm`)).trim();
    return processTitle(cmdline, comm);
  } catch {
    return undefined;
  }
}

/** The threads of a process with their names (`comm`), by tid; empty when it is gone. */
export async function readThreads(pid: number, procDir = "/proc"): Promise<Map<number, string>> {
  const threads = new Map<number, string>();
  try {
    for await (const entry of Deno.readDir(`${procDir}/${pid}/task`)) {
      const tid = Number(entry.name);
      if (!Number.isInteger(tid)) continue;
      try {
        threads.set(tid, (await Deno.readTextFile(`${procDir}/${pid}/task/${tid}/comm`)).trim());
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // The process is gone.
  }
  return threads;
}

/**
 * The children of `pid`: from `/proc/<pid>/task/<tid>/children` when the kernel has it
 * (CONFIG_PROC_CHILDREN), else by reading every process's parent.
 */
export async function readChildren(pid: number, procDir = "/proc"): Promise<number[]> {
  const children: number[] = [];
  let supported = false;
  try {
    for await (const entry of Deno.readDir(`${procDir}/${pid}/task`)) {
      try {
        const text = await Deno.readTextFile(`${procDir}/${pid}/task/${entry.name}/children`);
        supported = true;
        for (const word of text.split(" ")) if (word.trim() !== "") children.push(Number(word));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound && !supported) break;
      }
    }
  } catch {
    return [];
  }
  if (supported) return children;
  const all: number[] = [];
  for await (const entry of Deno.readDir(procDir)) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await readProcStat(Number(entry.name), procDir);
    if (stat?.ppid === pid) all.push(Number(entry.name));
  }
  return all;
}

/**
 * Whether a process's command line (`cmdline` split at NULs) is that of `executable`:
 * it names it first (possibly retitled, `/usr/bin/redis-server 127.0.0.1:6379`), or
 * second after an interpreter (`/bin/sh /path/script`).
 */
export function runsExecutable(words: readonly string[], executable: string): boolean {
  const first = (words[0] ?? "").split(" ")[0];
  return first === executable || basename(first) === basename(executable) ||
    words[1] === executable;
}

/**
 * Wait until process `pid` has exec'd `executable` (its launcher, a shell or setpriv,
 * replaced itself with it), at most `timeoutMs`. False when it did not in time or is gone.
 */
export async function waitForExec(
  pid: number,
  executable: string,
  options: { timeoutMs?: number; procDir?: string } = {},
): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 1000);
  while (Date.now() <= deadline) {
    let cmdline: string;
    try {
      cmdline = await Deno.readTextFile(`${options.procDir ?? "/proc"}/${pid}/cmdline`);
    } catch {
      return false;
    }
    if (runsExecutable(cmdline.split("\0"), executable)) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}
