/**
 * Finding a program the way a shell does: a name with a `/` is a path, a bare name is
 * looked up in `PATH`. Looked up before spawning: a spawn of a missing program does not
 * fail the same way everywhere (under qemu-user the child exits 127 instead of the spawn
 * throwing), and a clear "not installed" beats a bare exit code.
 *
 * @module
 */

import { isAbsolute, resolve } from "./posix_path.ts";

/** `PATH` used when the environment has none, as in glibc's `execvp`. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Options for {@linkcode findExecutable}. */
export interface FindExecutableOptions {
  /** Search path. Default: `$PATH`, else {@linkcode DEFAULT_PATH}. */
  path?: string;
  /** Folder a relative path is resolved against. Default: the current directory. */
  cwd?: string;
  /**
   * What a relative folder of the search path means. `resolve` (default): a folder
   * relative to `cwd`, an empty one `cwd` itself, as `execvp` does. `skip`: none is
   * searched, so a program wrapp runs is never picked up from whatever folder it was
   * started in.
   */
  relativeFolders?: "resolve" | "skip";
}

/**
 * Absolute path of the executable file `name` refers to, or `undefined` when there is
 * none. A name containing `/` is taken as a path (relative to `cwd`); a bare name is the
 * first executable regular file of that name in the search path.
 */
export async function findExecutable(
  name: string,
  options: FindExecutableOptions = {},
): Promise<string | undefined> {
  for (const candidate of _candidates(name, options)) {
    if (await Deno.stat(candidate).then(isExecutableFileInfo, () => false)) return candidate;
  }
  return undefined;
}

/** {@linkcode findExecutable} without awaiting, for a caller that cannot (config parsing). */
export function findExecutableSync(
  name: string,
  options: FindExecutableOptions = {},
): string | undefined {
  return _candidates(name, options).find(_isExecutableFileSync);
}

/**
 * {@linkcode findExecutable} in `path` (default: `$PATH` unless empty, else
 * {@linkcode DEFAULT_PATH}), its relative folders skipped: how wrapp finds the tools it
 * runs itself (gdb, gdbserver, prlimit, setpriv…).
 */
export function findProgram(
  name: string,
  path: string = Deno.env.get("PATH") || DEFAULT_PATH,
): Promise<string | undefined> {
  return findExecutable(name, { path, relativeFolders: "skip" });
}

/** Whether `info` is a regular file someone may execute (always, where there are no modes). */
export function isExecutableFileInfo(info: Deno.FileInfo): boolean {
  return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
}

/** Where `name` may be, in search order. */
function _candidates(name: string, options: FindExecutableOptions): string[] {
  if (name === "") return [];
  const cwd = () => options.cwd ?? Deno.cwd();
  if (name.includes("/")) return [isAbsolute(name) ? name : resolve(cwd(), name)];
  const search = options.path ?? Deno.env.get("PATH") ?? DEFAULT_PATH;
  const folders = search.split(":");
  return options.relativeFolders === "skip"
    ? folders.filter((dir) => isAbsolute(dir)).map((dir) => resolve(dir, name))
    : folders.map((dir) => resolve(cwd(), dir === "" ? "." : dir, name));
}

function _isExecutableFileSync(path: string): boolean {
  try {
    return isExecutableFileInfo(Deno.statSync(path));
  } catch {
    return false;
  }
}
