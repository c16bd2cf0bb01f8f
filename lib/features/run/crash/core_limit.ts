/**
 * Raising the service's RLIMIT_CORE so the kernel writes a core when it crashes
 * (`[crash] core_dumps = true`).
 *
 * Deno.Command cannot call setrlimit() in the child between fork and exec, and
 * `prlimit --pid` after spawning races with an early crash. So the command is prefixed
 * with `prlimit --core=… --`, which sets the limit on itself and execs the service: the
 * pid stays the same, and limits survive exec and the later user switch. Put this prefix
 * outermost, before `setpriv`, so it runs while wrapp is still root:
 * `prlimit --core=unlimited:unlimited -- setpriv … -- /usr/bin/svc`.
 *
 * @module
 */

import { DEFAULT_PATH, findProgram } from "../../../core/find_executable.ts";

/** A soft and hard RLIMIT_CORE in bytes; `Infinity` is unlimited. */
export interface CoreLimit {
  soft: number;
  hard: number;
}

/** What {@linkcode coreLimitPrefix} decided. */
export interface CoreLimitPlan {
  /** Arguments to put before the command (empty when nothing can be raised). */
  prefix: string[];
  /** The limits the service will run with. */
  limit: CoreLimit;
  /** Set when the limit cannot be raised as asked: a sentence to show the user. */
  warning?: string;
}

/** Options for {@linkcode coreLimitPrefix}. */
export interface CoreLimitPrefixOptions {
  /** Path of `prlimit`, or `false` to use the shell. Default: looked up in `PATH`, then the usual bin folders. */
  prlimit?: string | false;
  /** wrapp's own limits, which the service would inherit. Default: read from `/proc/self/limits`. */
  current?: CoreLimit;
  /** Whether wrapp may raise a hard limit (CAP_SYS_RESOURCE). Default: read from `/proc/self/status`. */
  canRaiseHard?: boolean;
  /** Shell used when prlimit is missing. Default `/bin/sh`. */
  shell?: string;
}

const _CAP_SYS_RESOURCE = 24n;

/**
 * The command prefix that starts the service with RLIMIT_CORE raised: soft and hard to
 * unlimited when wrapp may raise the hard limit (root with CAP_SYS_RESOURCE), else the
 * soft limit up to the hard one. Without prlimit, a `sh -c 'ulimit -c …; exec "$@"'`
 * prefix does the same. When even the hard limit is 0 and cannot be raised, the prefix is
 * empty and `warning` says why.
 */
export async function coreLimitPrefix(
  options: CoreLimitPrefixOptions = {},
): Promise<CoreLimitPlan> {
  const current = options.current ?? await readCoreLimit();
  const canRaiseHard = options.canRaiseHard ?? await hasCapability(_CAP_SYS_RESOURCE);
  const target: CoreLimit = canRaiseHard
    ? { soft: Infinity, hard: Infinity }
    : { soft: current.hard, hard: current.hard };
  if (!canRaiseHard && current.hard === 0) {
    return {
      prefix: [],
      limit: current,
      warning:
        "Cannot raise RLIMIT_CORE of the service: its hard limit is 0 and wrapp lacks CAP_SYS_RESOURCE (run wrapp as root, or raise the hard limit, e.g. LimitCORE=infinity in its systemd unit)",
    };
  }
  const prlimit = options.prlimit === false ? undefined : options.prlimit ?? await _findPrlimit();
  if (prlimit !== undefined) {
    const value = canRaiseHard ? "unlimited:unlimited" : `${formatLimit(target.soft)}:`;
    return { prefix: [prlimit, `--core=${value}`, "--"], limit: target };
  }
  const set = canRaiseHard
    ? "ulimit -H -c unlimited; ulimit -S -c unlimited"
    : 'ulimit -S -c "$(ulimit -H -c)"';
  return {
    prefix: [options.shell ?? "/bin/sh", "-c", `${set} 2>/dev/null; exec "$@"`, "wrapp-core"],
    limit: target,
  };
}

/** `"unlimited"` or the number of bytes. */
export function formatLimit(bytes: number): string {
  return Number.isFinite(bytes) ? String(bytes) : "unlimited";
}

/**
 * The RLIMIT_CORE line of a `/proc/PID/limits` text:
 * `Max core file size        0                    unlimited            bytes`.
 * Returns `undefined` when the line is missing.
 */
export function parseCoreLimit(limitsText: string): CoreLimit | undefined {
  const match = /^Max core file size\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!match) return undefined;
  const value = (text: string) => text === "unlimited" ? Infinity : Number(text);
  const limit = { soft: value(match[1]), hard: value(match[2]) };
  return Number.isNaN(limit.soft) || Number.isNaN(limit.hard) ? undefined : limit;
}

/**
 * RLIMIT_CORE of a process (default: wrapp itself) from `/proc/PID/limits`. When it
 * cannot be read, returns `{ soft: 0, hard: 0 }`, which makes callers assume no core.
 */
export async function readCoreLimit(
  pid: number | "self" = "self",
  options: { procRoot?: string } = {},
): Promise<CoreLimit> {
  try {
    const text = await Deno.readTextFile(`${options.procRoot ?? "/proc"}/${pid}/limits`);
    return parseCoreLimit(text) ?? { soft: 0, hard: 0 };
  } catch {
    return { soft: 0, hard: 0 };
  }
}

/** Whether wrapp has capability number `bit` in its effective set (`CapEff` of `/proc/self/status`). */
export async function hasCapability(
  bit: bigint,
  options: { procRoot?: string } = {},
): Promise<boolean> {
  try {
    const status = await Deno.readTextFile(`${options.procRoot ?? "/proc"}/self/status`);
    const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
    return hex !== undefined && ((BigInt(`0x${hex}`) >> bit) & 1n) === 1n;
  } catch {
    return false;
  }
}

async function _findPrlimit(): Promise<string | undefined> {
  // A service manager's PATH may be minimal: fall back to the usual folders.
  return await findProgram("prlimit", `${Deno.env.get("PATH") ?? ""}:${DEFAULT_PATH}`);
}
