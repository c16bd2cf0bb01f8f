/**
 * How much memory the kernel says a process holds: `/proc/<pid>/smaps_rollup` (Linux
 * 4.14 and later), else the `VmRSS`/`RssAnon`/`RssFile`/`RssShmem` lines of
 * `/proc/<pid>/status`. wrapp compares these with what it attributed to call stacks.
 *
 * @module
 */

/** Resident memory of a process, in kB. */
export interface ProcessMemory {
  /** Resident set size: every page mapped and in RAM. */
  readonly rssKb: number;
  /** The anonymous part (heap, stacks, private copies). */
  readonly anonKb: number;
  /** The file-backed part (code, mapped files), shared with the page cache. */
  readonly fileKb: number;
  /** Shared memory (shmem, tmpfs) mapped by the process. */
  readonly shmemKb: number;
  /** Swapped out (not resident). */
  readonly swapKb: number;
}

/** Parse `Key: N kB` lines into a map of kB. */
function _fields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+):\s+(\d+)\s+kB/.exec(line);
    if (match) fields.set(match[1], Number(match[2]));
  }
  return fields;
}

/** Parse the text of `smaps_rollup`. */
export function parseSmapsRollup(text: string): ProcessMemory {
  const f = _fields(text);
  const rssKb = f.get("Rss") ?? 0;
  const anonKb = f.get("Anonymous") ?? 0;
  // smaps_rollup has no shmem total; Pss_Shmem is the best figure it offers.
  const shmemKb = f.get("Pss_Shmem") ?? 0;
  return {
    rssKb,
    anonKb,
    fileKb: Math.max(0, rssKb - anonKb - shmemKb),
    shmemKb,
    swapKb: f.get("Swap") ?? 0,
  };
}

/** Parse the memory lines of `/proc/<pid>/status`. */
export function parseProcStatus(text: string): ProcessMemory {
  const f = _fields(text);
  return {
    rssKb: f.get("VmRSS") ?? 0,
    anonKb: f.get("RssAnon") ?? 0,
    fileKb: f.get("RssFile") ?? 0,
    shmemKb: f.get("RssShmem") ?? 0,
    swapKb: f.get("VmSwap") ?? 0,
  };
}

/** Memory of `pid`, or `undefined` when the process is gone (or a kernel thread). */
export async function readProcessMemory(
  pid: number,
  procDir = "/proc",
): Promise<ProcessMemory | undefined> {
  try {
    const text = await Deno.readTextFile(`${procDir}/${pid}/smaps_rollup`);
    // Empty once the process has released its memory on the way out: no sample, not zeros.
    return /^Rss:/m.test(text) ? parseSmapsRollup(text) : undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
  }
  try {
    const status = await Deno.readTextFile(`${procDir}/${pid}/status`);
    return status.includes("VmRSS:") ? parseProcStatus(status) : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's base page size in kB (4 on x86_64; 4, 16 or 64 on aarch64), from `/proc/self/smaps`. */
export async function kernelPageSizeKb(procDir = "/proc"): Promise<number> {
  try {
    const file = await Deno.open(`${procDir}/self/smaps`);
    try {
      const buffer = new Uint8Array(8192);
      const n = await file.read(buffer) ?? 0;
      const match = /KernelPageSize:\s+(\d+) kB/.exec(
        new TextDecoder().decode(buffer.subarray(0, n)),
      );
      if (match) return Number(match[1]);
    } finally {
      file.close();
    }
  } catch {
    // fall through
  }
  return 4;
}
