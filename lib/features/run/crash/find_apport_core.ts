/**
 * The core of a crashed process when core_pattern hands cores to Ubuntu's apport: a file
 * in `/var/lib/apport/coredump` named by executable, uid, boot id and pid (or, before
 * apport 2.20.11, `core` in the working directory), complete once apport's helper for the
 * pid has exited. When apport wrote a crash report instead, the answer points at it.
 *
 * @module
 */

import { basename, join } from "../../../core/posix_path.ts";
import {
  type ComponentMatcher,
  corePathMatchers,
  type CoreSettings,
  type CoreStrategy,
  escapeRegExp,
} from "./core_pattern.ts";
import {
  type CoreLookup,
  type CrashedProcess,
  type FindCoreOptions,
  imagePath,
  type NoCore,
  oldestCoreTime,
} from "./core_lookup.ts";
import { newestCoreFile, settledSize } from "./core_files.ts";
import { pollUntil } from "./poll.ts";

/** Find the core apport keeps for `process`, waiting up to the timeout for it. */
export async function findApportCore(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "apport" }>,
  settings: CoreSettings,
  options: FindCoreOptions,
  none: NoCore,
  waited: () => number,
): Promise<CoreLookup> {
  const procRoot = options.procRoot ?? "/proc";
  const dir = options.apportDir ?? "/var/lib/apport/coredump";
  const image = await imagePath(process);
  const mangled = apportName(image);
  const bootId = (await Deno.readTextFile(`${procRoot}/sys/kernel/random/boot_id`).catch(() => ""))
    .trim();
  const uid = process.uid === undefined ? "\\d+" : String(process.uid);
  const name = new RegExp(
    `^core\\.${escapeRegExp(mangled)}\\.${uid}\\.${
      bootId === "" ? "[0-9a-f-]+" : escapeRegExp(bootId)
    }\\.${process.pid}\\.\\d+$`,
  );
  const dirMatchers = corePathMatchers([{ kind: "text", text: dir }], "/");
  const matchers: ComponentMatcher[][] = [
    [...dirMatchers, { kind: "regex", regex: name, source: name.source }],
    // apport before 2.20.11 wrote "core" (or "core.PID") into the working directory.
    corePathMatchers([{ kind: "text", text: "core" }], process.cwd),
    corePathMatchers([{ kind: "text", text: `core.${process.pid}` }], process.cwd),
  ];
  const timeout = options.timeoutMs ?? 10_000;
  const found = await pollUntil(timeout, options.pollMs, async () => {
    for (const m of matchers) {
      const path = await newestCoreFile(m, process);
      if (path !== undefined) return path;
    }
    return undefined;
  });
  if (found === undefined) {
    const crashDir = options.apportCrashDir ?? "/var/crash";
    const report = join(crashDir, `${mangled}.${process.uid ?? Deno.uid() ?? 0}.crash`);
    const info = await Deno.stat(report).catch(() => undefined);
    if (info?.mtime && info.mtime.getTime() >= oldestCoreTime(process)) {
      return none(
        `apport wrote a crash report "${report}" instead of a core file; "apport-unpack ${report} DIR" extracts its CoreDump`,
      );
    }
    return none(
      `apport (core_pattern "${settings.pattern}") wrote no core for pid ${process.pid} within ${timeout} ms (expected "${dir}/core.${mangled}.${
        process.uid ?? "UID"
      }.${bootId || "BOOT"}.${process.pid}.*"); see /var/log/apport.log`,
    );
  }
  // apport is still storing the core while its helper runs for this pid.
  await pollUntil(
    Math.max(0, timeout - waited()),
    options.pollMs,
    async () => (await _helperRunning(strategy.helper, process.pid, procRoot)) ? undefined : true,
  );
  const settled = await settledSize(found, options, waited);
  return {
    found: true,
    path: found,
    size: settled.size,
    via: "apport",
    description: found,
    temporary: false,
    incomplete: !settled.stable,
    waitedMs: waited(),
    strategy,
  };
}

/**
 * apport's name for an executable in core file names: the path with `/` and `.` turned
 * into `_` (`/opt/svc/bin/svc.x` → `_opt_svc_bin_svc_x`).
 */
export function apportName(executablePath: string): string {
  return executablePath.replace(/[/.]/g, "_");
}

/** Whether a pipe helper (argv[0] = `helper`) still runs with `pid` among its arguments. */
async function _helperRunning(helper: string, pid: number, procRoot: string): Promise<boolean> {
  const name = basename(helper);
  try {
    for await (const entry of Deno.readDir(procRoot)) {
      if (!/^\d+$/.test(entry.name)) continue;
      const cmdline = await Deno.readTextFile(join(procRoot, entry.name, "cmdline")).catch(() =>
        ""
      );
      const args = cmdline.split("\0");
      // apport is a Python script: its name is argv[1] of the interpreter.
      if (!args.some((a) => basename(a) === name)) continue;
      if (args.some((a) => a === String(pid) || a === `-p${pid}`)) return true;
    }
  } catch {
    // no /proc: assume it is done
  }
  return false;
}
