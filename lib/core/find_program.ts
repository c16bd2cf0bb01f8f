/**
 * Look a program up the way a shell does, before spawning it: a spawn of a missing
 * program does not fail the same way everywhere (under qemu-user the child exits 127
 * instead of the spawn throwing), and a clear "not installed" beats a bare exit code.
 *
 * @module
 */

/** The PATH used when the environment has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The path of the executable file `name` would run: `name` itself when it contains a `/`
 * (if it is an executable file), else the first match in `path` (default: `$PATH`, then
 * {@linkcode DEFAULT_PATH}). `undefined` when there is none.
 */
export async function findProgram(
  name: string,
  path: string = Deno.env.get("PATH") || DEFAULT_PATH,
): Promise<string | undefined> {
  const candidates = name.includes("/")
    ? [name]
    : path.split(":").filter((dir) => dir !== "").map((dir) => `${dir}/${name}`);
  for (const candidate of candidates) {
    const info = await Deno.stat(candidate).catch(() => undefined);
    if (info?.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
  }
  return undefined;
}
