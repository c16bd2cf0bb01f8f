/**
 * Collapsed ("folded") stacks, the text format Brendan Gregg's `flamegraph.pl` and
 * speedscope read: one line per stack, outermost function first, `;` between frames, a
 * space and the value: `__libc_start_main;main;alloc_a 65536`. Values are kB of live
 * memory (resident + page cache by default). Frames without a function name read
 * `file+0xoffset`; a stack without user frames reads `[no user stack]`.
 *
 * @module
 */

import type { ProfileStack } from "./call_tree.ts";
import { frameLabel } from "../../core/symbols/symbolizer.ts";

/** Which memory the values count. */
export type FoldedValue = "total" | "resident" | "cache";

/** Options for {@linkcode foldedStacks}. */
export interface FoldedOptions {
  /** `total` (default), `resident` or `cache`. */
  value?: FoldedValue;
}

/** The collapsed-stack text of `stacks`, lines sorted, each ending in `\n`. */
export function foldedStacks(stacks: readonly ProfileStack[], options: FoldedOptions = {}): string {
  const kind = options.value ?? "total";
  const lines = new Map<string, number>();
  for (const stack of stacks) {
    const value = kind === "resident"
      ? stack.residentKb
      : kind === "cache"
      ? stack.cacheKb
      : stack.residentKb + stack.cacheKb;
    if (value <= 0) continue;
    const path = stack.frames.length === 0
      ? "[no user stack]"
      : stack.frames.map((frame) => _clean(frameLabel(frame))).reverse().join(";");
    lines.set(path, (lines.get(path) ?? 0) + value);
  }
  return [...lines].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, value]) => `${path} ${Math.round(value)}\n`).join("");
}

/** A frame name safe in a folded line: no `;` (frame separator) and no line breaks. */
function _clean(name: string): string {
  return name.replaceAll(";", ":").replace(/[\r\n]+/g, " ");
}
