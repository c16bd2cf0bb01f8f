/**
 * Reads the `@mem` map that `bpf/memprof.bt` prints: user stack and kind (0 resident,
 * 1 page cache, 2 not recorded because the page table was full) → pages.
 *
 * bpftrace prints a stack key in its `perf` mode, one frame per line, and with
 * `BPFTRACE_NO_USER_SYMBOLS=1` without names; the kind follows after a comma:
 * `"\n\t7f1a2b3c4d5e 0x7f1a2b3c4d5e ([unknown])\n\t55d0c8a011b2 …\n,0"`. Only the leading
 * hex address of each frame line is used, so symbolized output (`alloc_a+57 (/app)`) reads
 * the same.
 *
 * @module
 */

/** Live pages of one user stack. */
export interface StackPages {
  /** The stack text as bpftrace printed it (without the kind): identifies the stack. */
  readonly key: string;
  /** Code addresses, innermost frame first. */
  readonly addresses: readonly number[];
  /** Pages allocated by this stack and still held (not in the page cache). */
  readonly residentPages: number;
  /** Pages this stack added to the page cache and that are still there. */
  readonly cachePages: number;
}

const _FRAME = /^\s*([0-9a-fA-F]+)(?:\s|$)/;

/** The addresses of a stack key: one per non-empty line, innermost first. */
export function parseStackKey(text: string): number[] {
  const addresses: number[] = [];
  for (const line of text.split("\n")) {
    const match = _FRAME.exec(line);
    if (match) addresses.push(parseInt(match[1], 16));
  }
  return addresses;
}

/** What a printed `@mem` map holds. */
export interface MemMap {
  /** Stacks holding memory. */
  readonly stacks: StackPages[];
  /** Pages allocated but not recorded (the table of pages was full), all stacks together. */
  readonly lostPages: number;
}

/**
 * Turn the entries of a printed `@mem` map into one record per stack, resident and cache
 * together. Stacks whose pages all went (a total of 0) are left out; a negative total
 * (pages freed that were counted under a stack whose addition bpftrace has not printed
 * yet) counts as 0.
 */
export function parseMemMap(entries: Readonly<Record<string, unknown>>): MemMap {
  const byKey = new Map<string, { resident: number; cache: number }>();
  let lostPages = 0;
  for (const [fullKey, value] of Object.entries(entries)) {
    const comma = fullKey.lastIndexOf(",");
    const kind = comma < 0 ? 0 : Number(fullKey.slice(comma + 1).trim());
    const key = comma < 0 ? fullKey : fullKey.slice(0, comma);
    const pages = Number(value);
    if (!Number.isFinite(pages) || pages === 0) continue;
    if (kind === 2) {
      lostPages += pages;
      continue;
    }
    let entry = byKey.get(key);
    if (!entry) {
      entry = { resident: 0, cache: 0 };
      byKey.set(key, entry);
    }
    if (kind === 1) entry.cache += pages;
    else entry.resident += pages;
  }
  const stacks: StackPages[] = [];
  for (const [key, { resident, cache }] of byKey) {
    const residentPages = Math.max(0, resident);
    const cachePages = Math.max(0, cache);
    if (residentPages === 0 && cachePages === 0) continue;
    stacks.push({ key, addresses: parseStackKey(key), residentPages, cachePages });
  }
  return { stacks, lostPages };
}
