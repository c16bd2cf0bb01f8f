/**
 * Find the core dump of a crashed process the way the kernel wrote it: a file named by
 * `core_pattern` (relative ones in the process's working directory), a core kept by
 * systemd-coredump (`coredumpctl`), or one kept by apport (`/var/lib/apport/coredump`).
 *
 * The kernel may still be writing the core (or a pipe helper may still be storing it)
 * when wrapp sees the exit, so a core is only returned once its size stops changing.
 * When no core can come (RLIMIT_CORE 0, a pattern that discards cores, a missing folder)
 * the answer is immediate; otherwise the search gives up after a timeout. Either way the
 * result says why there is no core, in words a user can act on.
 *
 * This file reads the kernel settings and picks the lookup; the lookups themselves are
 * `find_file_core.ts`, `find_systemd_core.ts` and `find_apport_core.ts`.
 *
 * @module
 */

import { silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { type CoreSettings, parseCorePattern } from "./core_pattern.ts";
import { formatLimit } from "./core_limit.ts";
import {
  type CoreLookup,
  type CrashedProcess,
  type FindCoreOptions,
  RAISE_CORE_LIMIT_HINT,
} from "./core_lookup.ts";
import { findFileCore } from "./find_file_core.ts";
import { findSystemdCore } from "./find_systemd_core.ts";
import { findApportCore } from "./find_apport_core.ts";

export type { CoreLookup, CoreSource, CrashedProcess, FindCoreOptions } from "./core_lookup.ts";
export { apportName } from "./find_apport_core.ts";
export { type CoredumpEntry, parseCoredumpList } from "./find_systemd_core.ts";
export { globComponents } from "./core_files.ts";

/** Below this RLIMIT_CORE the kernel (min_coredump), systemd-coredump and apport keep no core. */
const _MIN_CORE_BYTES = 4096;

/**
 * Read `/proc/sys/kernel/core_pattern` and `core_uses_pid`. Throws `Deno.errors.*` when
 * they cannot be read.
 */
export async function readCoreSettings(procRoot = "/proc"): Promise<CoreSettings> {
  const pattern = await Deno.readTextFile(`${procRoot}/sys/kernel/core_pattern`);
  const usesPid = await Deno.readTextFile(`${procRoot}/sys/kernel/core_uses_pid`).then(
    (text) => text.trim() === "1",
    () => false,
  );
  return { pattern: pattern.replace(/\n$/, ""), usesPid };
}

/** Find the core of `process` (see the module doc). Never throws: problems become the `reason`. */
export async function findCore(
  process: CrashedProcess,
  options: FindCoreOptions = {},
): Promise<CoreLookup> {
  const started = performance.now();
  const waited = () => Math.round(performance.now() - started);
  const debug = options.debug ?? silentDebug;
  let settings: CoreSettings;
  try {
    settings = options.settings ?? await readCoreSettings(options.procRoot);
  } catch (error) {
    return {
      found: false,
      reason: `no core: cannot read "${options.procRoot ?? "/proc"}/sys/kernel/core_pattern": ${
        describeCause(error)
      }`,
      waitedMs: waited(),
    };
  }
  const strategy = parseCorePattern(settings);
  debug(`core_pattern ${JSON.stringify(settings.pattern)}: ${strategy.kind}`);
  const none = (reason: string): CoreLookup => ({
    found: false,
    reason: `no core: ${reason}`,
    waitedMs: waited(),
    strategy,
  });
  const limit = process.coreLimit;
  const limitTooSmall = limit !== undefined && limit < _MIN_CORE_BYTES;
  const limitReason = () =>
    `core_pattern "${settings.pattern}" but RLIMIT_CORE of the service was ${
      formatLimit(limit!)
    }; ${RAISE_CORE_LIMIT_HINT}`;

  switch (strategy.kind) {
    case "none":
      return none(`${strategy.reason}, so the kernel keeps no core dumps`);
    case "pipe":
      return none(
        `core_pattern "${settings.pattern}" hands cores to "${strategy.helper}", whose storage wrapp cannot read; set kernel.core_pattern to a file pattern such as /var/crash/core.%e.%p.%t, or use systemd-coredump`,
      );
    case "file":
      // A program may raise its own limit: look once, but do not wait for a core that cannot come.
      return await findFileCore(
        process,
        strategy,
        settings,
        options,
        none,
        waited,
        limitTooSmall ? limitReason() : undefined,
      );
    case "systemd-coredump":
      if (limitTooSmall) return none(limitReason());
      return await findSystemdCore(process, strategy, options, none, waited);
    case "apport":
      if (limitTooSmall) return none(limitReason());
      return await findApportCore(process, strategy, settings, options, none, waited);
  }
}
