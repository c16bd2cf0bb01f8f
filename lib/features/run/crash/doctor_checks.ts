/**
 * What `wrapp doctor` asks of crash capture: would a crashing service leave a core wrapp
 * can read (the kernel's core_pattern, the folder or helper it names, and the
 * RLIMIT_CORE services inherit).
 *
 * @module
 */

import { join } from "../../../core/posix_path.ts";
import { describeCause } from "../../../core/errors.ts";
import { type CoreLimit, formatLimit, readCoreLimit } from "./core_limit.ts";
import {
  type CoreSettings,
  type CoreStrategy,
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
  const where = await _whereCoresGo(strategy, options);
  const parts = [`core_pattern "${settings.pattern}"`, where.text];
  let ok = where.ok;
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

/** Where `strategy` sends cores, and whether wrapp could read them back from there. */
async function _whereCoresGo(
  strategy: CoreStrategy,
  options: CheckCoreDumpsOptions,
): Promise<{ ok: boolean; text: string }> {
  switch (strategy.kind) {
    case "none":
      return {
        ok: false,
        text:
          `${strategy.reason}: every core is discarded; set kernel.core_pattern, e.g. /var/crash/core.%e.%p.%t`,
      };
    case "pipe":
      return {
        ok: false,
        text:
          `cores go to "${strategy.helper}", which wrapp cannot read back; use a file pattern such as /var/crash/core.%e.%p.%t or systemd-coredump`,
      };
    case "file":
      return await _coreFiles(strategy);
    case "systemd-coredump":
      return await _systemdCoredump(options);
    case "apport": {
      const exists = await Deno.stat(strategy.helper).then((i) => i.isFile, () => false);
      return exists
        ? {
          ok: true,
          text:
            "cores go to apport, which keeps those of programs outside packages in /var/lib/apport/coredump",
        }
        : { ok: false, text: `cores go to apport, but "${strategy.helper}" is missing` };
    }
  }
}

/** Cores written as files: in the working directory, or in a folder that must be writable. */
async function _coreFiles(
  strategy: Extract<CoreStrategy, { kind: "file" }>,
): Promise<{ ok: boolean; text: string }> {
  const usesPid = strategy.usesPid ? ", core_uses_pid 1" : "";
  if (strategy.relative) {
    return {
      ok: true,
      text:
        `cores are files in the service's working directory${usesPid}, which the service's user must be able to write`,
    };
  }
  const folder = literalFolder(expandCorePattern(strategy.pattern, { pid: 1 }), "/");
  if (folder === undefined) {
    return { ok: true, text: `cores are files under a folder named at crash time${usesPid}` };
  }
  const problem = await _folderProblem(folder);
  return problem !== undefined
    ? { ok: false, text: `the folder "${folder}" ${problem}` }
    : { ok: true, text: `cores are files in "${folder}"${usesPid}, which exists and is writable` };
}

/** Cores handed to systemd-coredump: is coredumpctl there, and does it keep them. */
async function _systemdCoredump(
  options: CheckCoreDumpsOptions,
): Promise<{ ok: boolean; text: string }> {
  const version = await _version(options.coredumpctl ?? "coredumpctl");
  if (version === undefined) {
    return {
      ok: false,
      text:
        `cores go to systemd-coredump, but coredumpctl is missing (apt-get install systemd-coredump)`,
    };
  }
  const storage = await _coredumpStorage(options.systemdConfigDir ?? "/etc/systemd");
  if (storage === "none") {
    return {
      ok: false,
      text:
        "cores go to systemd-coredump, but Storage=none in coredump.conf keeps none (only the journal's stack trace)",
    };
  }
  return {
    ok: true,
    text: `cores go to systemd-coredump (Storage=${storage}), read with ${version}`,
  };
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
