/**
 * The mount table of `/proc/self/mounts`, read by bpftrace's preflight (where is tracefs) and
 * by `wrapp doctor` (is debugfs mounted).
 *
 * @module
 */

/** One line of `/proc/self/mounts`. */
export interface Mount {
  device: string;
  dir: string;
  type: string;
}

/** The mounted filesystems (from `/proc/self/mounts`; `\040` in paths decoded). */
export async function readMounts(mountsFile = "/proc/self/mounts"): Promise<Mount[]> {
  const text = await Deno.readTextFile(mountsFile);
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [device = "", dir = "", type = ""] = line.split(" ");
    return { device: decode(device), dir: decode(dir), type };
  });
}
