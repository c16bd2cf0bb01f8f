/**
 * One folder per run under the trace directory, a `latest` link to the newest one, and a
 * bounded number of old runs kept (PM2's ever-growing log files are a classic complaint).
 *
 * ```
 * <dir>/20250102-030405-a1b2c3/events.jsonl, trace.json
 * <dir>/latest -> 20250102-030405-a1b2c3
 * ```
 *
 * @module
 */

import { join } from "../../core/posix_path.ts";
import { describeCause, SinkError } from "../../core/errors.ts";

/** Options for {@linkcode prepareRunDir}. */
export interface PrepareRunDirOptions {
  /** How many run folders to keep, the new one included; older ones are deleted. Default 20. */
  keepRuns?: number;
}

/** What a run id looks like: `YYYYMMDD-HHMMSS-xxxxxx`, UTC time and 6 random hex digits. */
export const RUN_ID_PATTERN: RegExp = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

/** Name of the link to the newest run folder. */
export const LATEST_LINK = "latest";

/**
 * A new run id, `YYYYMMDD-HHMMSS-xxxxxx`: the UTC time of `date` (default now), so ids sort
 * chronologically, and 6 random hex digits, so two runs in the same second differ.
 */
export function newRunId(date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const day = `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${
    pad(date.getUTCDate())
  }`;
  const time = `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  const random = Array.from(
    crypto.getRandomValues(new Uint8Array(3)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  return `${day}-${time}-${random}`;
}

/**
 * Create `<dir>/<runId>` (and `dir` itself), point `<dir>/latest` at it, and delete the
 * oldest run folders beyond `keepRuns`. Returns the run folder's path.
 *
 * Only folders whose names match {@linkcode RUN_ID_PATTERN} are ever deleted, and never
 * the new one; pruning is best effort (a folder that cannot be deleted is left for the
 * next run). `latest` is a relative symlink, replaced atomically by renaming a new link
 * over it; a `latest` that is not a symlink is left alone and reported.
 *
 * Throws `TypeError` for a run id that is not a single plain path segment, `RangeError`
 * for a `keepRuns` below 1, and {@linkcode SinkError} when the folder or link cannot be
 * created: `Cannot create trace folder "/x/y": permission denied`.
 */
export async function prepareRunDir(
  dir: string,
  runId: string,
  options: PrepareRunDirOptions = {},
): Promise<string> {
  // The id becomes a path segment: refuse anything that could escape `dir`.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId) || runId === LATEST_LINK) {
    throw new TypeError(`Invalid run id "${runId}": use letters, digits, ".", "_" and "-" only`);
  }
  const keepRuns = options.keepRuns ?? 20;
  if (!Number.isInteger(keepRuns) || keepRuns < 1) {
    throw new RangeError(`Invalid keepRuns ${keepRuns}: must be an integer of at least 1`);
  }
  const runDir = join(dir, runId);
  try {
    await Deno.mkdir(runDir, { recursive: true });
  } catch (error) {
    throw new SinkError(`Cannot create trace folder "${runDir}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  await _pointLatest(dir, runId);
  await _prune(dir, runId, keepRuns);
  return runDir;
}

/** Replace `<dir>/latest` with a link to `runId` in one rename, so it never dangles or vanishes. */
async function _pointLatest(dir: string, runId: string): Promise<void> {
  const link = join(dir, LATEST_LINK);
  const existing = await Deno.lstat(link).catch(() => undefined);
  if (existing && !existing.isSymlink) {
    throw new SinkError(`Cannot update "${link}": it exists and is not a symbolic link`);
  }
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const temp = join(dir, `.${LATEST_LINK}.${Deno.pid}.${random}.tmp`);
  try {
    // Relative target: the trace directory can be moved or copied and the link still works.
    await Deno.symlink(runId, temp);
    await Deno.rename(temp, link);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new SinkError(`Cannot update "${link}": ${describeCause(error)}`, { cause: error });
  }
}

/** Delete the oldest run folders so that `keepRuns` remain, the current one always among them. */
async function _prune(dir: string, runId: string, keepRuns: number): Promise<void> {
  const runs: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      // isDirectory is false for symlinks: a link named like a run is never followed.
      if (entry.isDirectory && RUN_ID_PATTERN.test(entry.name) && entry.name !== runId) {
        runs.push(entry.name);
      }
    }
  } catch {
    return; // Pruning is housekeeping; the run goes on with an unreadable folder.
  }
  runs.sort();
  const excess = runs.length + 1 - keepRuns;
  for (const name of runs.slice(0, Math.max(0, excess))) {
    await Deno.remove(join(dir, name), { recursive: true }).catch(() => {});
  }
}
