/**
 * Core files on disk: the paths matching a pattern's components, the newest one written
 * since the process started, and waiting until it is completely written.
 *
 * @module
 */

import { join } from "../../../core/posix_path.ts";
import type { ComponentMatcher } from "./core_pattern.ts";
import { type CrashedProcess, type FindCoreOptions, oldestCoreTime } from "./core_lookup.ts";
import { sleep } from "./poll.ts";

/** The newest regular file matching `matchers` that is not older than the process. */
export async function newestCoreFile(
  matchers: readonly ComponentMatcher[],
  process: CrashedProcess,
): Promise<string | undefined> {
  const since = oldestCoreTime(process);
  let best: { path: string; time: number } | undefined;
  for (const path of await globComponents(matchers)) {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info?.isFile) continue;
    // A fresh core was written during the crash, so its mtime is recent; an old core of an
    // earlier run with the same name is not (the kernel replaces a file, never appends).
    const time = info.mtime?.getTime() ?? 0;
    if (time < since) continue;
    if (!best || time > best.time) best = { path, time };
  }
  return best?.path;
}

/**
 * Every existing path whose components match `matchers` (literal names are taken as
 * they are, regexes are matched against folder entries). At most `limit` paths.
 */
export async function globComponents(
  matchers: readonly ComponentMatcher[],
  limit = 1000,
): Promise<string[]> {
  let paths = ["/"];
  for (const matcher of matchers) {
    const next: string[] = [];
    for (const base of paths) {
      if (matcher.kind === "literal") {
        next.push(join(base, matcher.name));
        continue;
      }
      try {
        for await (const entry of Deno.readDir(base)) {
          if (matcher.regex.test(entry.name)) next.push(join(base, entry.name));
          if (next.length >= limit) break;
        }
      } catch {
        // not a folder, or not readable
      }
    }
    paths = next;
    if (paths.length === 0) break;
  }
  const existing: string[] = [];
  for (const path of paths) {
    if (await Deno.lstat(path).then(() => true, () => false)) existing.push(path);
  }
  return existing;
}

/**
 * Wait until the file's size and mtime stop changing for `settleMs`, or the timeout
 * (`waited` is how long the search has run, ms). `stable` is false after a timeout.
 */
export async function settledSize(
  path: string,
  options: FindCoreOptions,
  waited: () => number,
): Promise<{ size: number; stable: boolean }> {
  const settleMs = options.settleMs ?? 300;
  const timeout = options.timeoutMs ?? 10_000;
  const pollMs = Math.min(options.pollMs ?? 100, settleMs);
  let last = await Deno.stat(path);
  let stableSince = performance.now();
  while (true) {
    if (performance.now() - stableSince >= settleMs) return { size: last.size, stable: true };
    if (waited() >= timeout) return { size: last.size, stable: false };
    await sleep(pollMs);
    const now = await Deno.stat(path).catch(() => last);
    if (now.size !== last.size || now.mtime?.getTime() !== last.mtime?.getTime()) {
      stableSince = performance.now();
    }
    last = now;
  }
}
