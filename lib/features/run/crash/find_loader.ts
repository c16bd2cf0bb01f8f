/**
 * The dynamic loader a process maps, found in its `/proc/<pid>/maps`: the crash watcher
 * hooks its `_dl_debug_state` to learn when the process maps libraries.
 *
 * @module
 */

/** A dynamic loader mapped by a process: where, and its identity. */
export interface LoaderMapping {
  /** Its path in the process's own root. */
  path: string;
  /** `dev:inode`: the same file for every process, whatever the path. */
  key: string;
}

/**
 * The dynamic loader in the text of a `/proc/<pid>/maps` (`ld-linux-x86-64.so.2`,
 * `ld-linux-aarch64.so.1`, `ld-2.31.so`, `ld-musl-x86_64.so.1`), or `undefined` (a static
 * program).
 */
export function findLoader(maps: string): LoaderMapping | undefined {
  for (const line of maps.split("\n")) {
    const match = /^\S+\s+\S+\s+\S+\s+(\S+)\s+(\d+)\s+(\/.*\/ld[-.][^/]*\.so[^/]*)$/.exec(line);
    if (match && match[2] !== "0") return { path: match[3], key: `${match[1]}:${match[2]}` };
  }
  return undefined;
}
