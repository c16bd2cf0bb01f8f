/**
 * One spool folder, one wrapp: two processes appending to and replaying the same segments
 * would deliver lines twice and out of order. The owner writes `<dir>/owner` with its pid
 * and the start time of that pid (from /proc, so a reused pid is not mistaken for it); a
 * later wrapp refuses the folder while that process lives and is a wrapp, and takes over
 * a stale file left by one that was killed. "Is a wrapp" is read from /proc too: an owner
 * file copied from another machine or container may name a pid (often 1) that some other
 * program holds here, with a start time that happens to match.
 *
 * @module
 */

import { basename, fileUrlToPath, isAbsolute, resolve } from "../../core/posix_path.ts";
import { describeCause, SinkError } from "../../core/errors.ts";
import { procStatFields } from "../../core/proc_stat.ts";
import { readTextOrUndefined } from "../../core/read_text_or_undefined.ts";

const _OWNER_FILE = "owner";

/** Release a claim (idempotent): removes the owner file if it is still this process's. */
export type ReleaseSpool = () => void;

/**
 * Claim the spool folder `dir` (which must exist) for this process. Throws
 * {@linkcode SinkError} naming the other owner when a live process holds it.
 */
export function claimSpool(dir: string, procDir = "/proc"): ReleaseSpool {
  // Synchronous: a few small local files at start-up, where each async call would wait for a
  // round trip through Deno's thread pool, and its first async file write loads Deno's
  // streams code (~6 ms).
  const path = `${dir}/${_OWNER_FILE}`;
  const me = `${Deno.pid} ${_startTime(Deno.pid, procDir)}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      Deno.writeTextFileSync(path, `${me}\n`, { createNew: true, mode: 0o600 });
      return _release(path, me);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) {
        // A full disk can create the file and then refuse its contents: leave no empty owner file.
        if (readTextOrUndefined(path) === "") _removeQuietly(path);
        throw new SinkError(`Cannot claim spool "${dir}": ${describeCause(error)}`, {
          cause: error,
        });
      }
    }
    const owner = (readTextOrUndefined(path) ?? "").trim();
    if (owner === me) return _release(path, me); // this process, reopening
    const [pid, started] = owner.split(" ");
    if (
      /^\d+$/.test(pid ?? "") && started &&
      _startTime(Number(pid), procDir) === started &&
      isWrappProcess(Number(pid), procDir)
    ) {
      throw new SinkError(
        `Cannot use spool "${dir}": wrapp pid ${pid} is using it (two wrapps for the same service name? give each its own spool folder: [redis] spool_dir)`,
      );
    }
    _removeQuietly(path); // stale: its process is gone
  }
  throw new SinkError(`Cannot claim spool "${dir}": its owner file keeps changing`);
}

function _release(path: string, me: string): ReleaseSpool {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (readTextOrUndefined(path)?.trim() === me) _removeQuietly(path);
  };
}

function _removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* gone already, or not ours to remove */ }
}

/**
 * Whether process `pid` runs wrapp: its program (`/proc/<pid>/exe`) or its `argv[0]` is
 * named `wrapp…` (an installed or compiled wrapp, under any path), its program is this
 * very binary (a compiled wrapp renamed), or it runs this process's main module (`deno
 * run …/main.ts`). False for a process that is gone or unreadable.
 */
export function isWrappProcess(pid: number, procDir = "/proc"): boolean {
  const args = readTextOrUndefined(`${procDir}/${pid}/cmdline`)?.split("\0").filter((a) => a);
  if (args === undefined) return false;
  if (args.length === 0) return false; // a kernel thread, or a zombie
  const named = (path: string) => /^wrapp/i.test(basename(path));
  if (named(args[0])) return true;
  // Only root may read another user's exe link; the cmdline tests above and below do without.
  const exe = _readLinkOrUndefined(`${procDir}/${pid}/exe`);
  if (exe !== undefined) {
    if (named(exe)) return true;
    const mine = Deno.execPath();
    if (exe === mine && !/^deno/.test(basename(mine))) return true;
  }
  if (!Deno.mainModule.startsWith("file:")) return false;
  const main = fileUrlToPath(Deno.mainModule);
  if (args.includes(main)) return true;
  // `deno run main.ts` from the repository: relative to that process's working directory.
  if (!args.some((arg) => basename(arg) === basename(main) && !isAbsolute(arg))) return false;
  const cwd = _readLinkOrUndefined(`${procDir}/${pid}/cwd`);
  return cwd !== undefined && args.some((arg) => resolve(cwd, arg) === main);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or "" when gone. */
function _startTime(pid: number, procDir: string): string {
  const stat = readTextOrUndefined(`${procDir}/${pid}/stat`);
  return (stat !== undefined && procStatFields(stat)?.[19]) || "";
}

function _readLinkOrUndefined(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}
