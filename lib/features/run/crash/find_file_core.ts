/**
 * The core of a crashed process when core_pattern names a plain file: expand the pattern
 * for the process (a relative one in its working directory), then look for the newest
 * matching file and wait until it is completely written.
 *
 * @module
 */

import { basename } from "../../../core/posix_path.ts";
import { silentDebug } from "../../../core/debug.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import {
  corePathMatchers,
  type CoreSettings,
  type CoreStrategy,
  describeExpansion,
  expandCorePattern,
  literalFolder,
  type PatternValues,
} from "./core_pattern.ts";
import {
  type CoreLookup,
  type CrashedProcess,
  type FindCoreOptions,
  imagePath,
  type NoCore,
  RAISE_CORE_LIMIT_HINT,
} from "./core_lookup.ts";
import { newestCoreFile, settledSize } from "./core_files.ts";
import { pollUntil } from "./poll.ts";

/**
 * Find the core a plain-file `strategy` names. With `noCoreExpected` (why no core can
 * come) look once, without waiting: a program may raise its own limit.
 */
export async function findFileCore(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "file" }>,
  settings: CoreSettings,
  options: FindCoreOptions,
  none: NoCore,
  waited: () => number,
  noCoreExpected?: string,
): Promise<CoreLookup> {
  const pieces = expandCorePattern(
    strategy.pattern,
    await _patternValues(process, options),
    { usesPid: strategy.usesPid },
  );
  const where = describeExpansion(pieces, process.cwd);
  const folder = literalFolder(pieces, process.cwd);
  if (folder !== undefined && noCoreExpected === undefined) {
    const info = await Deno.stat(folder).catch(() => undefined);
    if (!info?.isDirectory) {
      return none(
        `the folder "${folder}" of core_pattern "${settings.pattern}" does not exist; create it`,
      );
    }
  }
  const matchers = corePathMatchers(pieces, process.cwd);
  const grace = noCoreExpected !== undefined
    ? 0
    : Math.min(options.timeoutMs ?? 10_000, options.fileGraceMs ?? 2000);
  const found = await pollUntil(grace, options.pollMs, () => newestCoreFile(matchers, process));
  (options.debug ?? silentDebug)(`core file ${where}: ${found ?? "not found"}`);
  if (found === undefined && noCoreExpected !== undefined) return none(noCoreExpected);
  if (found === undefined) {
    const causes = [
      `the folder may not be writable${process.uid !== undefined ? ` for uid ${process.uid}` : ""}`,
      ...(process.coreLimit === undefined
        ? [`RLIMIT_CORE of the service may be 0 (${RAISE_CORE_LIMIT_HINT})`]
        : []),
      "the disk may be full",
      "or the program changed its working directory or made itself non-dumpable",
    ];
    return none(
      `no file matches "${where}" (core_pattern "${settings.pattern}") ${grace} ms after the crash: ${
        causes.join(", ")
      }`,
    );
  }
  const settled = await settledSize(found, options, waited);
  return {
    found: true,
    path: found,
    size: settled.size,
    via: "file",
    description: found,
    temporary: false,
    incomplete: !settled.stable,
    waitedMs: waited(),
    strategy,
  };
}

/** The values a file pattern can be expanded with. */
async function _patternValues(
  process: CrashedProcess,
  options: FindCoreOptions,
): Promise<PatternValues> {
  const signal = typeof process.signal === "number"
    ? process.signal
    : SIGNAL_NUMBERS[process.signal];
  return {
    pid: process.pid,
    globalPid: await _inInitialPidNamespace(options.procRoot) ? process.pid : undefined,
    uid: process.uid,
    gid: process.gid,
    signal,
    hostname: options.hostname,
    comm: process.comm ?? basename(process.executable),
    executablePath: await imagePath(process),
    coreLimit: process.coreLimit,
  };
}

/** Whether wrapp runs in the initial pid namespace (so `%P` equals `%p`). */
async function _inInitialPidNamespace(procRoot = "/proc"): Promise<boolean> {
  const status = await Deno.readTextFile(`${procRoot}/self/status`).catch(() => "");
  const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1];
  return nspid !== undefined && nspid.trim().split(/\s+/).length === 1;
}
