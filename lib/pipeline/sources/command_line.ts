/**
 * A running process's command line, for display.
 *
 * @module
 */

/** `/proc/<pid>/cmdline` with its NUL-separated words joined by spaces; `""` when unreadable or empty. */
export async function readCommandLine(pid: number, procDir = "/proc"): Promise<string> {
  try {
    const text = await Deno.readTextFile(`${procDir}/${pid}/cmdline`);
    return text.split("\0").filter((part) => part !== "").join(" ");
  } catch {
    return "";
  }
}
