/**
 * Where a recording goes: `<root>/<app>_<timestamp>/` (UTC, like run ids:
 * `redis_20261125-141040`), with `<root>/latest` pointing at the newest one. Under
 * `sudo`, the files are handed to the user who ran sudo, so they can read, move and
 * delete their recordings without root.
 *
 * @module
 */

import { join } from "node:path";
import { prepareRunDir } from "../../pipeline/tef/run_dir.ts";
import { pathExists } from "../../core/path_exists.ts";

/** `<app>_<YYYYMMDD-HHMMSS>` in UTC. */
export function recordingName(app: string, date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${app}_${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${
    pad(date.getUTCDate())
  }-${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/**
 * Create `<root>/<app>_<timestamp>` (with `-2`, `-3`… when that name is taken, e.g. two
 * recordings in one second), point `<root>/latest` at it, and return its path and name.
 * Throws a `SinkError` when the folder or the link cannot be made. Recordings are never
 * pruned: each is something a user asked for.
 */
export async function createRecordingDir(
  root: string,
  app: string,
  date: Date = new Date(),
): Promise<{ dir: string; name: string }> {
  const base = recordingName(app, date);
  let name = base;
  for (let n = 2; await pathExists(join(root, name), { followLinks: false }); n++) {
    name = `${base}-${n}`;
  }
  const dir = await prepareRunDir(root, name, { keepRuns: Number.MAX_SAFE_INTEGER });
  return { dir, name };
}

/**
 * The user who ran `sudo` (`SUDO_UID`/`SUDO_GID`) when wrapp runs as root through it,
 * else `undefined`.
 */
export function sudoUser(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
  uid: number | null = Deno.uid(),
): { uid: number; gid: number } | undefined {
  if (uid !== 0) return undefined;
  const sudoUid = Number(env("SUDO_UID"));
  const sudoGid = Number(env("SUDO_GID"));
  if (!Number.isInteger(sudoUid) || sudoUid <= 0 || !Number.isInteger(sudoGid)) return undefined;
  if (env("SUDO_UID")?.trim() === "" || env("SUDO_GID")?.trim() === "") return undefined;
  return { uid: sudoUid, gid: sudoGid };
}

/** Give `paths` (files and folders, not recursively) to `owner`; best effort. */
export async function handOver(
  paths: readonly string[],
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  if (!owner) return;
  for (const path of paths) {
    await Deno.chown(path, owner.uid, owner.gid).catch(() => {});
  }
}
