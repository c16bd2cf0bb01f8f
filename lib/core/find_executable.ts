/**
 * Finding a program the way a shell does: a name with a `/` is a path, a bare name is
 * looked up in `PATH`.
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
  if (name === "") return undefined;
  if (name.includes("/")) {
    const path = isAbsolute(name) ? name : resolve(options.cwd ?? Deno.cwd(), name);
    return await _isExecutableFile(path) ? path : undefined;
  }
  const search = options.path ?? Deno.env.get("PATH") ?? DEFAULT_PATH;
  for (const dir of search.split(":")) {
    const path = resolve(options.cwd ?? Deno.cwd(), dir === "" ? "." : dir, name);
    if (await _isExecutableFile(path)) return path;
  }
  return undefined;
}

async function _isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
