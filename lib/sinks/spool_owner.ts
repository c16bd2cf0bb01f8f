/**
 * One spool folder, one wrapp: two processes appending to and replaying the same segments
 * would deliver lines twice and out of order. The owner writes `<dir>/owner` with its pid
 * and the start time of that pid (from /proc, so a reused pid is not mistaken for it); a
 * later wrapp refuses the folder while that process lives, and takes over a stale file
 * left by one that was killed.
 *
 * @module
 */

import { describeCause, SinkError } from "../errors.ts";

const _OWNER_FILE = "owner";

/** Release a claim (idempotent): removes the owner file if it is still this process's. */
export type ReleaseSpool = () => Promise<void>;

/**
 * Claim the spool folder `dir` (which must exist) for this process. Throws
 * {@linkcode SinkError} naming the other owner when a live process holds it.
 */
export async function claimSpool(dir: string, procDir = "/proc"): Promise<ReleaseSpool> {
  const path = `${dir}/${_OWNER_FILE}`;
  const me = `${Deno.pid} ${await _startTime(Deno.pid, procDir)}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await Deno.writeTextFile(path, `${me}\n`, { createNew: true, mode: 0o600 });
      return _release(path, me);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) {
        // A full disk can create the file and then refuse its contents: leave no empty owner file.
        if ((await Deno.readTextFile(path).catch(() => undefined)) === "") {
          await Deno.remove(path).catch(() => {});
        }
        throw new SinkError(`Cannot claim spool "${dir}": ${describeCause(error)}`, {
          cause: error,
        });
      }
    }
    const owner = (await Deno.readTextFile(path).catch(() => "")).trim();
    if (owner === me) return _release(path, me); // this process, reopening
    const [pid, started] = owner.split(" ");
    if (/^\d+$/.test(pid ?? "") && started && await _startTime(Number(pid), procDir) === started) {
      throw new SinkError(
        `Cannot use spool "${dir}": wrapp pid ${pid} is using it (two wrapps for the same service name? give each its own spool folder: [redis] spool_dir)`,
      );
    }
    await Deno.remove(path).catch(() => {}); // stale: its process is gone
  }
  throw new SinkError(`Cannot claim spool "${dir}": its owner file keeps changing`);
}

function _release(path: string, me: string): ReleaseSpool {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const owner = (await Deno.readTextFile(path).catch(() => "")).trim();
    if (owner === me) await Deno.remove(path).catch(() => {});
  };
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or "" when gone. */
async function _startTime(pid: number, procDir: string): Promise<string> {
  try {
    const stat = await Deno.readTextFile(`${procDir}/${pid}/stat`);
    // The name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}
