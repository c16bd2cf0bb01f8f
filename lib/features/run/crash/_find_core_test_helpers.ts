/**
 * What the tests of findCore() and its lookups share: a temporary folder, a crashed
 * process in it, and short timeouts.
 *
 * @module
 */

import type { CrashedProcess, FindCoreOptions } from "./core_lookup.ts";

/** A temporary folder removed when disposed. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "wrapp-find-core-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A process (pid 4242, uid 0, executable `DIR/svc`) that just died of SIGSEGV in `dir`. */
export function crashed(dir: string, extra: Partial<CrashedProcess> = {}): CrashedProcess {
  return {
    pid: 4242,
    uid: 0,
    gid: 0,
    executable: `${dir}/svc`,
    cwd: dir,
    signal: "SIGSEGV",
    crashTime: Date.now(),
    startTime: Date.now() - 1000,
    coreLimit: Infinity,
    ...extra,
  };
}

/** Timeouts short enough for tests. */
export const quick: FindCoreOptions = {
  timeoutMs: 2000,
  fileGraceMs: 300,
  settleMs: 50,
  pollMs: 20,
};
