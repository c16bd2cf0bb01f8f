/**
 * The services of this host, for `wrapp ps`: every wrapp's status socket (see
 * ../supervise/status_socket.ts) is asked twice, a sampling window apart, and /proc is
 * read at both moments; lines/s and CPU % are what happened in between.
 *
 * @module
 */

import { join, resolve } from "../../../core/posix_path.ts";
import { describeCause } from "../../../core/errors.ts";
import { ROOT_RUNTIME_DIR, runtimeDir, socketPid } from "../runtime_dir.ts";
import type { WrappSnapshot } from "../service_snapshot.ts";
import type { PsRow } from "./ps_row.ts";
import {
  cpuPercent,
  type ProcStat,
  readProcessTable,
  type TreeUsage,
  treeUsage,
} from "./proc_usage.ts";

/** A status socket found in a runtime folder. */
export interface StatusSocketFile {
  /** Its path. */
  path: string;
  /** The pid of the wrapp that made it (from its name). */
  pid: number;
}

/** The runtime folders root's `wrapp ps` reads: root's and every user's. */
export async function allRuntimeDirs(): Promise<string[]> {
  const dirs = [ROOT_RUNTIME_DIR];
  const add = async (parent: string, match: RegExp, child: string) => {
    try {
      for await (const entry of Deno.readDir(parent)) {
        if (entry.isDirectory && match.test(entry.name)) dirs.push(join(parent, entry.name, child));
      }
    } catch {
      // No such folder here.
    }
  };
  await add("/run/user", /^\d+$/, "wrapp");
  await add("/tmp", /^wrapp-\d+$/, "");
  return dirs.map((dir) => dir.replace(/\/$/, ""));
}

/**
 * The runtime folders `wrapp ps` looks in: `explicit` alone when given (`--runtime-dir`,
 * else `$WRAPP_RUNTIME_DIR`); as root, root's and every user's; else the user's own.
 */
export async function psRuntimeDirs(options: {
  explicit?: string;
  /** The user's id (`Deno.uid()`); `null` where there is none. */
  uid: number | null;
  env: (name: string) => string | undefined;
}): Promise<string[]> {
  const { explicit, uid, env } = options;
  return explicit !== undefined && explicit !== ""
    ? [resolve(explicit)]
    : uid === 0
    ? await allRuntimeDirs()
    : [runtimeDir({ env, uid })];
}

/**
 * The status sockets in `dirs`. A socket whose wrapp is gone (killed with SIGKILL, or
 * its pid reused by another program) is removed when we may, and left out.
 */
export async function findStatusSockets(
  dirs: readonly string[],
  options: { proc?: string } = {},
): Promise<StatusSocketFile[]> {
  const proc = options.proc ?? "/proc";
  const found: StatusSocketFile[] = [];
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue; // No wrapp of that user has run since boot.
    }
    for (const entry of entries) {
      const pid = socketPid(entry.name);
      if (pid === undefined) continue;
      const path = join(dir, entry.name);
      if (!(await _alive(pid, proc))) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      found.push({ path, pid });
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** What one wrapp answered, or why it did not. */
export type WrappAnswer =
  | { socket: StatusSocketFile; snapshot: WrappSnapshot; problem?: undefined }
  | { socket: StatusSocketFile; snapshot?: undefined; problem: string; stale?: boolean };

/** Ask the wrapp at `socket` for its services, giving it `timeoutMs` to answer. */
export async function queryWrapp(
  socket: StatusSocketFile,
  timeoutMs: number,
): Promise<WrappAnswer> {
  let conn: Deno.UnixConn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn?.close();
    } catch {
      // Closed already.
    }
  }, timeoutMs);
  try {
    conn = await Deno.connect({ transport: "unix", path: socket.path });
    if (timedOut) throw new Error("timed out");
    await conn.write(new TextEncoder().encode('{"query":"ps"}\n'));
    const chunks: Uint8Array[] = [];
    let size = 0;
    const buffer = new Uint8Array(65536);
    while (size < 16 * 1024 * 1024) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      size += n;
      if (buffer[n - 1] === 10) break;
    }
    const text = new TextDecoder().decode(_concat(chunks, size));
    const reply = JSON.parse(text) as WrappSnapshot & { error?: string };
    if (reply.error !== undefined) return { socket, problem: `answered: ${reply.error}` };
    if (!Array.isArray(reply.services)) return { socket, problem: "answered no services" };
    return { socket, snapshot: reply };
  } catch (error) {
    if (timedOut) return { socket, problem: `no answer within ${timeoutMs} ms` };
    if (error instanceof Deno.errors.ConnectionRefused) {
      // Nobody listens: a socket left by a dead wrapp whose pid was taken by another process.
      await Deno.remove(socket.path).catch(() => {});
      return { socket, problem: "gone", stale: true };
    }
    if (error instanceof Deno.errors.NotFound) return { socket, problem: "gone", stale: true };
    if (error instanceof SyntaxError) {
      return { socket, problem: "answered something else than JSON" };
    }
    return { socket, problem: describeCause(error) };
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed by the timer.
    }
  }
}

/** Options for {@linkcode localServices}. */
export interface LocalServicesOptions {
  /** The runtime folders to look in. */
  dirs: readonly string[];
  /** How long each wrapp has to answer, ms. */
  timeoutMs: number;
  /** The sampling window for lines/s and CPU %, ms; 0 for one look without them. */
  sampleMs: number;
  /** Where /proc is. Default `/proc`. */
  proc?: string;
}

/** Every service of the wrapps whose sockets are in `dirs`, sorted by name; a wrapp that did not answer is one row. */
export async function localServices(options: LocalServicesOptions): Promise<PsRow[]> {
  const proc = options.proc ?? "/proc";
  const sockets = await findStatusSockets(options.dirs, { proc });
  if (sockets.length === 0) return [];
  const look = async () => {
    const at = performance.now();
    const [answers, table] = await Promise.all([
      Promise.all(sockets.map((socket) => queryWrapp(socket, options.timeoutMs))),
      readProcessTable(proc),
    ]);
    return { answers, usage: await _usages(answers, table, { proc, at }) };
  };
  const first = await look();
  let second: typeof first | undefined;
  if (options.sampleMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, options.sampleMs));
    second = await look();
  }
  const rows: PsRow[] = [];
  for (let i = 0; i < sockets.length; i++) {
    const before = first.answers[i];
    const after = second?.answers[i];
    const latest = after?.snapshot ? after : before;
    if (!latest.snapshot) {
      if ((latest as { stale?: boolean }).stale) continue;
      rows.push({
        wrappPid: latest.socket.pid,
        state: "no answer",
        problem: `wrapp pid ${latest.socket.pid} ${latest.problem} (${await _commandLine(
          latest.socket.pid,
          proc,
        )})`,
      });
      continue;
    }
    const earlier = after?.snapshot && before.snapshot ? before.snapshot : undefined;
    const seconds = earlier ? (latest.snapshot.time - earlier.time) / 1000 : 0;
    const usage = (second ?? first).usage;
    for (const service of latest.snapshot.services) {
      const row: PsRow = {
        name: service.name,
        wrappPid: latest.snapshot.wrapp.pid,
        state: service.state,
        restarts: service.restarts,
        lines: service.lines,
        config: service.config,
      };
      if (service.pid !== undefined) row.pid = service.pid;
      if (service.startedAt !== undefined) row.startedAt = service.startedAt;
      if (service.lastExit) row.lastExit = service.lastExit;
      if (service.status !== undefined) row.status = service.status;
      const old = earlier?.services.find((s) => s.name === service.name);
      if (old && seconds > 0) row.linesPerSecond = Math.max(0, service.lines - old.lines) / seconds;
      if (service.pid !== undefined) {
        const now = usage.get(service.pid);
        if (now) row.rssBytes = now.usage.rssBytes;
        const then = second && old?.pid === service.pid ? first.usage.get(service.pid) : undefined;
        if (now && then) {
          row.cpuPercent = cpuPercent(then.usage.cpuTicks, now.usage.cpuTicks, now.at - then.at);
        }
      }
      rows.push(row);
    }
  }
  return rows.sort((a, b) =>
    (a.name ?? "\uffff").localeCompare(b.name ?? "\uffff") || (a.wrappPid ?? 0) - (b.wrappPid ?? 0)
  );
}

/** The tree use of every running service in `answers`, by its pid, with when it was read. */
async function _usages(
  answers: readonly WrappAnswer[],
  table: ReadonlyMap<number, ProcStat>,
  options: { proc: string; at: number },
): Promise<Map<number, { usage: TreeUsage; at: number }>> {
  const { proc, at } = options;
  const pids = answers.flatMap((a) => a.snapshot?.services.map((s) => s.pid) ?? [])
    .filter((pid): pid is number => pid !== undefined);
  const result = new Map<number, { usage: TreeUsage; at: number }>();
  await Promise.all(pids.map(async (pid) => {
    const usage = await treeUsage(table, pid, proc);
    if (usage) result.set(pid, { usage, at });
  }));
  return result;
}

async function _alive(pid: number, proc: string): Promise<boolean> {
  try {
    await Deno.stat(`${proc}/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function _commandLine(pid: number, proc: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(`${proc}/${pid}/cmdline`);
    return text.split("\0").filter((word) => word !== "").join(" ") || "?";
  } catch {
    return "?";
  }
}

function _concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
