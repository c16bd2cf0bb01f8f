/**
 * Small files that may be missing or unreadable (under /proc, /sys/fs/cgroup, a spool
 * folder), read synchronously: a few µs for what an async read would send through Deno's
 * thread pool.
 *
 * @module
 */

/** The text of `path`, or `undefined` when it cannot be read (gone, not allowed, a folder). */
export function readTextOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
