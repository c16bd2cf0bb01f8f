/**
 * Reads `/proc/<pid>/maps`: which file (and which offset in it) backs each range of a
 * process's address space, so a code address can be turned into `file + offset`.
 *
 * A line looks like
 * `55d0c8a00000-55d0c8a21000 r-xp 00001000 08:01 1234567  /usr/bin/app`; the path may be
 * missing (anonymous memory), a pseudo name (`[vdso]`, `[heap]`), or end in ` (deleted)`
 * when the file was replaced after it was mapped.
 *
 * @module
 */

import { describeCause, WrappError } from "../errors.ts";
import { procStatFields } from "../proc_stat.ts";

/** One mapping of a process. */
export interface Mapping {
  /** First address of the range. */
  readonly start: number;
  /** First address after the range. */
  readonly end: number;
  /** `r-xp` and the like. */
  readonly perms: string;
  /** Offset in the file of `start`. */
  readonly offset: number;
  /** Device `major:minor` of the file (`00:00` for anonymous memory). */
  readonly dev: string;
  /** Inode of the file (0 for anonymous memory). */
  readonly inode: number;
  /** Path of the file or a pseudo name like `[vdso]`; `""` for anonymous memory. */
  readonly path: string;
  /** Whether the file was deleted or replaced after it was mapped (the ` (deleted)` suffix, removed from `path`). */
  readonly deleted: boolean;
}

const _LINE = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+(\S+)\s+(\d+)\s*(.*)$/;
const _DELETED = " (deleted)";

/**
 * Parse the text of a maps file into mappings sorted by address. Lines that do not look
 * like a mapping are skipped (the file is the kernel's, so there should be none).
 */
export function parseProcMaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  for (const line of text.split("\n")) {
    const match = _LINE.exec(line);
    if (!match) continue;
    let path = match[7];
    const deleted = path.endsWith(_DELETED);
    if (deleted) path = path.slice(0, -_DELETED.length);
    mappings.push({
      start: parseInt(match[1], 16),
      end: parseInt(match[2], 16),
      perms: match[3],
      offset: parseInt(match[4], 16),
      dev: match[5],
      inode: Number(match[6]),
      path,
      deleted,
    });
  }
  mappings.sort((a, b) => a.start - b.start);
  return mappings;
}

/** `PF_EXITING` in the flags of `/proc/<pid>/stat` (include/linux/sched.h): set as `do_exit()` begins. */
const _PF_EXITING = 0x4;

/**
 * The text of `/proc/<pid>/maps`, read while the process lives. A process that is
 * exiting may list only some of its mappings (on Linux 6.18, 111 bytes of a crashed service's
 * 3,007 while its memory was torn down): such a read throws, like one of a
 * process that is gone or a zombie (no mappings at all), so the caller keeps the maps
 * it read before.
 */
export async function readLiveMaps(pid: number, procDir = "/proc"): Promise<string> {
  const text = await Deno.readTextFile(`${procDir}/${pid}/maps`);
  if (text === "") throw new WrappError(`pid ${pid} has no mappings: it is exiting`);
  // Read after the maps: a flag not set by then was not set while they were read.
  const stat = await Deno.readTextFile(`${procDir}/${pid}/stat`);
  const flags = Number(procStatFields(stat)?.[6]); // field 9
  if (!Number.isInteger(flags)) {
    throw new WrappError(`Cannot read the flags of pid ${pid} in ${procDir}/${pid}/stat`);
  }
  if (flags & _PF_EXITING) {
    throw new WrappError(`pid ${pid} is exiting: its maps may be incomplete`);
  }
  return text;
}

/**
 * Read and parse `/proc/<pid>/maps`. Throws {@linkcode WrappError}
 * `Cannot attach to pid 4242: no such process` when the process is gone, and
 * `Cannot read "/proc/4242/maps": permission denied` when it cannot be read.
 */
export async function readProcMaps(pid: number, procDir = "/proc"): Promise<Mapping[]> {
  const path = `${procDir}/${pid}/maps`;
  try {
    return parseProcMaps(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new WrappError(`Cannot attach to pid ${pid}: no such process`, { cause: error });
    }
    throw new WrappError(`Cannot read "${path}": ${describeCause(error)}`, { cause: error });
  }
}

/** The mapping containing `address`, by binary search over mappings sorted by `start`. */
export function findMapping(mappings: readonly Mapping[], address: number): Mapping | undefined {
  let low = 0;
  let high = mappings.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const mapping = mappings[middle];
    if (address < mapping.start) high = middle - 1;
    else if (address >= mapping.end) low = middle + 1;
    else return mapping;
  }
  return undefined;
}

/** The offset in the mapped file of `address`, which must lie in `mapping`. */
export function fileOffset(mapping: Mapping, address: number): number {
  return address - mapping.start + mapping.offset;
}
