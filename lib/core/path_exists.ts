/**
 * Whether something is at a path.
 *
 * @module
 */

/**
 * Whether `path` exists. With `followLinks: false` a symbolic link counts itself, even
 * when it points nowhere. Any error (not found, no permission) counts as "no".
 */
export async function pathExists(
  path: string,
  options: { followLinks?: boolean } = {},
): Promise<boolean> {
  try {
    await (options.followLinks === false ? Deno.lstat(path) : Deno.stat(path));
    return true;
  } catch {
    return false;
  }
}
