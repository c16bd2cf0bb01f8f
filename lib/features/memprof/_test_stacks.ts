/**
 * Stacks and frames shared by the unit tests of the memprof modules.
 *
 * @module
 */

import type { ProfileStack } from "./call_tree.ts";
import type { ResolvedFrame } from "../../core/symbols/symbolizer.ts";

/** A frame of function `name` in `app`. */
export function fakeFrame(name: string, executable = "app"): ResolvedFrame {
  return {
    key: `/bin/${executable}\0${name}`,
    address: 0x1000,
    executable,
    path: `/bin/${executable}`,
    offset: 0x1000 + name.length,
    functionName: name,
    category: executable === "app" ? "nodeCpp" : "systemLib",
  };
}

/** Stacks: main → alloc_a 64 MiB, main → alloc_b 16 MiB, main → read_file → read 8 MiB cache. */
export const STACKS: ProfileStack[] = [
  {
    frames: ["alloc_a", "main", "__libc_start_main"].map((n) => fakeFrame(n)),
    residentKb: 65536,
    cacheKb: 0,
  },
  {
    frames: ["alloc_b", "main", "__libc_start_main"].map((n) => fakeFrame(n)),
    residentKb: 16384,
    cacheKb: 0,
  },
  {
    frames: [
      fakeFrame("read", "libc.so.6"),
      ...["read_file", "main", "__libc_start_main"].map((n) => fakeFrame(n)),
    ],
    residentKb: 0,
    cacheKb: 8192,
  },
  { frames: ["main", "__libc_start_main"].map((n) => fakeFrame(n)), residentKb: 100, cacheKb: 0 },
];
