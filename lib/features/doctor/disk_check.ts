/**
 * Doctor's disk line: the free space where the spool (or the local traces) goes, against
 * what it may take.
 *
 * @module
 */

import { dirname } from "node:path";
import type { Config } from "../../core/config/config.ts";
import { formatBytes } from "../../core/config/parse_size.ts";
import { defaultStateDir } from "../../core/config/state_dir.ts";
import type { CheckResult } from "./check_result.ts";

/** Default `[redis] spool_max_bytes`: the disk the spool may take. */
const _DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;

/** Free space of the filesystem holding a folder. */
export interface DiskSpace {
  /** The folder checked: `path` or, when it does not exist yet, its nearest existing parent. */
  checked: string;
  /** Where that filesystem is mounted. */
  mount: string;
  /** Bytes an unprivileged user may still write, and the filesystem's size. */
  availableBytes: number;
  totalBytes: number;
}

/** Parse the data line of `df -P -k`; undefined when it is not one. */
export function parseDfOutput(text: string): Omit<DiskSpace, "checked"> | undefined {
  const line = text.trim().split("\n").slice(1).join(" ");
  // Filesystem 1024-blocks Used Available Capacity Mounted-on (the device may hold spaces)
  const match = /(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(\/.*)$/.exec(line);
  if (!match) return undefined;
  return {
    totalBytes: Number(match[1]) * 1024,
    availableBytes: Number(match[3]) * 1024,
    mount: match[4],
  };
}

/**
 * Free space where `path` is or will be (its nearest existing parent), from `df -P -k`.
 * Throws when df fails.
 */
export async function freeDiskSpace(path: string): Promise<DiskSpace> {
  let checked = path;
  while (!(await Deno.stat(checked).then(() => true, () => false))) {
    const parent = dirname(checked);
    if (parent === checked) break;
    checked = parent;
  }
  const output = await new Deno.Command("df", {
    args: ["-P", "-k", checked],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const parsed = output.success
    ? parseDfOutput(new TextDecoder().decode(output.stdout))
    : undefined;
  if (!parsed) {
    throw new Error(
      `df -P -k "${checked}" failed: ${
        new TextDecoder().decode(output.stderr).trim() || `exit code ${output.code}`
      }`,
    );
  }
  return { checked, ...parsed };
}

/** Where the spool (or, without [redis], the local trace) goes, and how much it may take. */
export interface SpoolTarget {
  /** The folder. */
  dir: string;
  /** What it is, for the message: `the spool`, `the local traces`. */
  what: string;
  /** How much it may grow to, bytes; undefined when unbounded. */
  limitBytes?: number;
}

/**
 * What the disk check looks at: the config's `[redis] spool_dir`, else its local trace
 * folder; without a config, wrapp's state folder (`/var/lib/wrapp` as root).
 */
export function spoolTarget(
  config: Config | undefined,
  options: { env?: (name: string) => string | undefined; uid?: number | null } = {},
): SpoolTarget | undefined {
  if (config?.redis) {
    return {
      dir: config.redis.spoolDir,
      what: "the spool",
      limitBytes: config.redis.spoolMaxBytes,
    };
  }
  if (config) return { dir: config.local.dir, what: "the local traces" };
  const state = defaultStateDir("x", {
    env: options.env ?? ((name) => Deno.env.get(name)),
    uid: options.uid === undefined ? Deno.uid() : options.uid,
  });
  return state === undefined
    ? undefined
    : { dir: dirname(state), what: "spools and traces", limitBytes: _DEFAULT_SPOOL_BYTES };
}

/** The disk line: free space where `target` goes, against what it may take. */
export function diskResult(target: SpoolTarget, space: DiskSpace): CheckResult {
  const free = formatBytes(space.availableBytes);
  const where = `${free} free on ${space.mount} for ${target.what} (${target.dir}${
    target.limitBytes ? `, up to ${formatBytes(target.limitBytes)}` : ""
  })`;
  const fix = `free space on ${space.mount}${
    target.what === "the spool" ? ", or lower [redis] spool_max_bytes / move spool_dir" : ""
  }`;
  if (space.availableBytes < 16 * 1024 * 1024) {
    return {
      check: "disk",
      status: "missing",
      message: `only ${where}: events waiting for Redis and traces will be dropped`,
      fix,
    };
  }
  if (target.limitBytes !== undefined && space.availableBytes < target.limitBytes) {
    return {
      check: "disk",
      status: "warning",
      message: `only ${where}: the disk fills before the limit, and events are dropped then`,
      fix,
    };
  }
  return { check: "disk", status: "ok", message: where };
}
