/**
 * What a core dump search is given (the crashed process, the options) and what it
 * answers, shared by the plain-file, systemd-coredump and apport lookups of
 * {@linkcode findCore} (`find_core.ts`).
 *
 * @module
 */

import type { DebugLog } from "../../../core/debug.ts";
import type { CoreSource } from "../../../core/events/crash.ts";
import type { CoreSettings, CoreStrategy } from "./core_pattern.ts";

/** What is known about the process that crashed. */
export interface CrashedProcess {
  /** Its pid (as wrapp sees it). */
  pid: number;
  /** Its real uid. Default: unknown (a wildcard for `%u`). */
  uid?: number;
  /** Its real gid. Default: unknown (a wildcard for `%g`). */
  gid?: number;
  /** Its comm (`%e`). Default: the executable's base name, cut to 15 bytes like the kernel does. */
  comm?: string;
  /** The program as configured (a script or a binary). */
  executable: string;
  /** The ELF image that actually ran (the interpreter for a `#!` script). Default: `executable` with symlinks resolved. */
  image?: string;
  /** Its working directory when it started; relative patterns are resolved against it. */
  cwd: string;
  /** The fatal signal: a name (`"SIGSEGV"`) or a number. */
  signal: string | number;
  /** When wrapp saw it die, ms since the epoch. */
  crashTime: number;
  /** When it was started, ms since the epoch; older files never count as its core. */
  startTime?: number;
  /** Its soft RLIMIT_CORE in bytes (`Infinity` = unlimited), when known. Below one page, no core is written. */
  coreLimit?: number;
}

/** Options for {@linkcode findCore}. */
export interface FindCoreOptions {
  /** Give up after this long, ms. Default 10000. */
  timeoutMs?: number;
  /** A plain-file pattern's core is written before the exit is reported: wait at most this long for it, ms. Default 2000. */
  fileGraceMs?: number;
  /** How long a core's size must stay the same to count as complete, ms. Default 300. */
  settleMs?: number;
  /** Poll interval, ms. Default 100. */
  pollMs?: number;
  /** The kernel settings. Default: read from `/proc/sys/kernel`. */
  settings?: CoreSettings;
  /** Where /proc is. Default `/proc`. */
  procRoot?: string;
  /** The coredumpctl program. Default `"coredumpctl"`. */
  coredumpctl?: string;
  /** Folder where `coredumpctl dump` writes the core. Default: a new temporary folder (the result is `temporary`). */
  extractDir?: string;
  /** apport's core folder. Default `/var/lib/apport/coredump`. */
  apportDir?: string;
  /** apport's crash-report folder. Default `/var/crash`. */
  apportCrashDir?: string;
  /** `%h`. Default: unknown (a wildcard; the service may run in another UTS namespace). */
  hostname?: string;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

// Where a found core came from: one definition, with the crash event's data.
export type { CoreSource };

/** What {@linkcode findCore} found. */
export type CoreLookup =
  | {
    readonly found: true;
    /** Path of the core file to give gdb. */
    readonly path: string;
    /** Its size in bytes. */
    readonly size: number;
    readonly via: CoreSource;
    /** For people: the path, or `systemd-coredump (coredumpctl dump 4242)`. */
    readonly description: string;
    /** wrapp extracted it into a temporary folder: delete it (and the folder) when done. */
    readonly temporary: boolean;
    /** The size was still changing when the timeout came: gdb may see a truncated core. */
    readonly incomplete: boolean;
    /** How long the search took, ms. */
    readonly waitedMs: number;
    readonly strategy: CoreStrategy;
  }
  | {
    readonly found: false;
    /** Why there is no core: `no core: core_pattern "…" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true`. */
    readonly reason: string;
    readonly waitedMs: number;
    readonly strategy?: CoreStrategy;
  };

/** The answer "no core", with `reason` after `no core: `, the time waited and the strategy. */
export type NoCore = (reason: string) => CoreLookup;

/** What to tell a user whose service had too small an RLIMIT_CORE. */
export const RAISE_CORE_LIMIT_HINT = "set [crash] core_dumps = true";

/** Files older than this (ms since the epoch) are never the core of `process`. */
export function oldestCoreTime(process: CrashedProcess): number {
  // A huge core can take minutes to write, and file times are coarse: allow for both.
  return Math.max(process.startTime ?? -Infinity, process.crashTime - 10 * 60_000) - 2000;
}

/** The real path of the ELF that ran: `image`, else `executable` with symlinks resolved. */
export async function imagePath(process: CrashedProcess): Promise<string> {
  const path = process.image ?? process.executable;
  return await Deno.realPath(path).catch(() => path);
}
