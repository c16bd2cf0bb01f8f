/**
 * What `wrapp doctor` reads from the machine beyond a program lookup: would a crashing
 * service leave a core wrapp can read; the kernel's version; the mounted filesystems
 * (tracefs, debugfs); the free disk space where the spool goes; and whether Yama lets
 * gdbserver attach to the service.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { describeCause } from "../../../core/errors.ts";
import { type CoreLimit, formatLimit, readCoreLimit } from "./core_limit.ts";
import {
  type CoreSettings,
  expandCorePattern,
  literalFolder,
  parseCorePattern,
} from "./core_pattern.ts";
import { readCoreSettings } from "./find_core.ts";

/** Options for {@linkcode checkCoreDumps}; every field has a default read from the machine. */
export interface CheckCoreDumpsOptions {
  /** The kernel settings. Default: read from `<procRoot>/sys/kernel`. */
  settings?: CoreSettings;
  /** Where /proc is. Default `/proc`. */
  procRoot?: string;
  /** wrapp's RLIMIT_CORE. Default: read from `/proc/self/limits`. */
  limit?: CoreLimit;
  /** Whether the service's config sets `[crash] core_dumps`; unknown by default. */
  coreDumps?: boolean;
  /** The coredumpctl program. Default `"coredumpctl"`. */
  coredumpctl?: string;
  /** systemd-coredump's configuration folder. Default `/etc/systemd`. */
  systemdConfigDir?: string;
}

/** What {@linkcode checkCoreDumps} concludes. */
export interface CoreDumpCheck {
  /** Whether a crash would leave a core wrapp can read. */
  ok: boolean;
  /** One line: the pattern, where cores go, and what is missing. */
  message: string;
}

/**
 * Explain whether cores would be written and found: the core_pattern and what it means
 * (file, systemd-coredump, apport, another program, discarded), whether the pattern's
 * folder exists and is writable, whether coredumpctl / apport are there, and wrapp's own
 * RLIMIT_CORE (which services inherit unless `[crash] core_dumps = true` raises it).
 */
export async function checkCoreDumps(options: CheckCoreDumpsOptions = {}): Promise<CoreDumpCheck> {
  let settings: CoreSettings;
  try {
    settings = options.settings ?? await readCoreSettings(options.procRoot);
  } catch (error) {
    return {
      ok: false,
      message: `Cannot read "${options.procRoot ?? "/proc"}/sys/kernel/core_pattern": ${
        describeCause(error)
      }`,
    };
  }
  const strategy = parseCorePattern(settings);
  const parts = [`core_pattern "${settings.pattern}"`];
  let ok = true;
  switch (strategy.kind) {
    case "none":
      ok = false;
      parts.push(
        `${strategy.reason}: every core is discarded; set kernel.core_pattern, e.g. /var/crash/core.%e.%p.%t`,
      );
      break;
    case "pipe":
      ok = false;
      parts.push(
        `cores go to "${strategy.helper}", which wrapp cannot read back; use a file pattern such as /var/crash/core.%e.%p.%t or systemd-coredump`,
      );
      break;
    case "file": {
      const usesPid = strategy.usesPid ? ", core_uses_pid 1" : "";
      if (strategy.relative) {
        parts.push(
          `cores are files in the service's working directory${usesPid}, which the service's user must be able to write`,
        );
        break;
      }
      const folder = literalFolder(expandCorePattern(strategy.pattern, { pid: 1 }), "/");
      if (folder === undefined) {
        parts.push(`cores are files under a folder named at crash time${usesPid}`);
        break;
      }
      const problem = await _folderProblem(folder);
      if (problem !== undefined) {
        ok = false;
        parts.push(`the folder "${folder}" ${problem}`);
      } else {
        parts.push(`cores are files in "${folder}"${usesPid}, which exists and is writable`);
      }
      break;
    }
    case "systemd-coredump": {
      const version = await _version(options.coredumpctl ?? "coredumpctl");
      if (version === undefined) {
        ok = false;
        parts.push(
          `cores go to systemd-coredump, but coredumpctl is missing (apt-get install systemd-coredump)`,
        );
        break;
      }
      const storage = await _coredumpStorage(options.systemdConfigDir ?? "/etc/systemd");
      if (storage === "none") {
        ok = false;
        parts.push(
          "cores go to systemd-coredump, but Storage=none in coredump.conf keeps none (only the journal's stack trace)",
        );
      } else {
        parts.push(`cores go to systemd-coredump (Storage=${storage}), read with ${version}`);
      }
      break;
    }
    case "apport": {
      const exists = await Deno.stat(strategy.helper).then((i) => i.isFile, () => false);
      if (!exists) {
        ok = false;
        parts.push(`cores go to apport, but "${strategy.helper}" is missing`);
      } else {
        parts.push(
          "cores go to apport, which keeps those of programs outside packages in /var/lib/apport/coredump",
        );
      }
      break;
    }
  }
  if (strategy.kind !== "none" && strategy.kind !== "pipe") {
    const limit = options.limit ?? await readCoreLimit("self", { procRoot: options.procRoot });
    const text = `RLIMIT_CORE of wrapp is ${formatLimit(limit.soft)} (hard ${
      formatLimit(limit.hard)
    })`;
    if (limit.soft >= 4096) parts.push(`${text}, inherited by services`);
    else if (options.coreDumps === true) {
      parts.push(`${text}; [crash] core_dumps = true raises it for the service`);
    } else {
      if (options.coreDumps === false) ok = false;
      parts.push(`${text}, so services write no core unless [crash] core_dumps = true`);
    }
  }
  return { ok, message: parts.join("; ") };
}

/** Why a core could not be written into `folder`, or `undefined` when it can. */
async function _folderProblem(folder: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(folder);
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? "does not exist; create it (mkdir -p, mode 1777 for services running as other users)"
      : `cannot be checked: ${describeCause(error)}`;
  }
  if (!info.isDirectory) return "is not a folder";
  try {
    const probe = await Deno.makeTempFile({ dir: folder, prefix: ".wrapp-doctor-" });
    await Deno.remove(probe);
  } catch (error) {
    return `is not writable: ${describeCause(error)}`;
  }
  return undefined;
}

/** The first line of `program --version`, or `undefined` when it cannot run. */
async function _version(program: string): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(program, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (output.code !== 0) return undefined;
    return new TextDecoder().decode(output.stdout).split("\n")[0].trim() || program;
  } catch {
    return undefined;
  }
}

/** The effective `Storage=` of systemd-coredump: coredump.conf, then its drop-ins in name order. */
async function _coredumpStorage(configDir: string): Promise<string> {
  const files = [join(configDir, "coredump.conf")];
  try {
    const dropIns: string[] = [];
    for await (const entry of Deno.readDir(join(configDir, "coredump.conf.d"))) {
      if (entry.name.endsWith(".conf")) {
        dropIns.push(join(configDir, "coredump.conf.d", entry.name));
      }
    }
    files.push(...dropIns.sort());
  } catch {
    // no drop-ins
  }
  let storage = "external";
  for (const file of files) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const match of text.matchAll(/^\s*Storage\s*=\s*(\S+)/gm)) storage = match[1];
  }
  return storage;
}

/** A kernel release's version numbers: `6.8.0-45-generic` → `[6, 8, 0]`; undefined when unreadable. */
export function parseKernelRelease(release: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** One line of `/proc/self/mounts`. */
export interface Mount {
  device: string;
  dir: string;
  type: string;
}

/** The mounted filesystems (from `/proc/self/mounts`; `\040` in paths decoded). */
export async function readMounts(mountsFile = "/proc/self/mounts"): Promise<Mount[]> {
  const text = await Deno.readTextFile(mountsFile);
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [device, dir, type] = line.split(" ");
    return { device: decode(device), dir: decode(dir), type };
  });
}

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

/**
 * `kernel.yama.ptrace_scope` read from `<procRoot>/sys/kernel/yama/ptrace_scope`;
 * `undefined` without the Yama module (then only the usual same-user rule applies).
 */
export async function readPtraceScope(procRoot = "/proc"): Promise<number | undefined> {
  try {
    const scope = Number(
      (await Deno.readTextFile(`${procRoot}/sys/kernel/yama/ptrace_scope`)).trim(),
    );
    return Number.isInteger(scope) ? scope : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why gdbserver (or `tool`: gdb for [watchdog]) could not attach to the service under
 * Yama's `scope`, or `undefined` when it can. The debugger is the service's sibling (both
 * are wrapp's children), not its ancestor, so scope 1 already needs CAP_SYS_PTRACE (root).
 */
export function ptraceScopeProblem(
  scope: number | undefined,
  root: boolean,
  tool = "gdbserver",
): string | undefined {
  if (scope === undefined || scope <= 0) return undefined;
  if (scope >= 3) {
    return `kernel.yama.ptrace_scope is 3: no process may attach to another, not even root's ${tool}`;
  }
  if (root) return undefined;
  return `kernel.yama.ptrace_scope is ${scope}: only root may attach ${tool} to the service`;
}
