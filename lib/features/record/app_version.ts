/**
 * The version of the recorded application, from its own `--version` (or `-v`) output:
 * `Redis server v=7.0.15 sha=…` → `7.0.15`, `nginx version: nginx/1.22.1` → `1.22.1`,
 * `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `15.18 (Debian 15.18-0+deb12u1)`.
 *
 * @module
 */

/**
 * The version in a program's version output: the first dotted number, with what
 * follows it in parentheses (a distribution's build); `undefined` when there is none.
 */
export function parseVersion(text: string): string | undefined {
  const match = /(?:^|[\s=/v])(\d+\.\d+(?:\.\d+)*(?:[-+~][\w.+~-]*)?)(\s+\([^)]*\))?/.exec(text);
  if (!match) return undefined;
  return match[1] + (match[2] ?? "").replace(/^\s+/, " ");
}

/**
 * Run `program ARGS` (2 s at most) and parse its stdout and stderr with
 * {@linkcode parseVersion}; `undefined` when it fails or says no version.
 */
export async function programVersion(
  program: string,
  args: readonly string[] = ["--version"],
): Promise<string | undefined> {
  try {
    const child = new Deno.Command(program, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 2000);
    const output = await child.output();
    clearTimeout(timer);
    const decoder = new TextDecoder();
    return parseVersion(decoder.decode(output.stdout) + "\n" + decoder.decode(output.stderr));
  } catch {
    return undefined;
  }
}
