/**
 * The stack of a fatal signal record as crash report frames: its code addresses
 * resolved with the symbolizer of the process (its maps and the ELF symbols of the mapped
 * files), in the shape of gdb's frames.
 *
 * @module
 */

import type { ResolvedFrame, Symbolizer } from "../../../core/symbols/symbolizer.ts";
import type { CrashFrame } from "./crash_report.ts";

/**
 * Resolved frames in the shape of gdb's: the function when the symbols name one (else
 * `??`), the mapped file as `library`, the address as gdb prints it.
 */
export function crashFrames(resolved: readonly ResolvedFrame[]): CrashFrame[] {
  // Code without frame pointers (glibc's raise/abort) leaves the unwinder looping on one
  // address outside any file: the stack ends at the first such repeat.
  const end = resolved.findIndex((frame, i) =>
    i > 0 && frame.address === resolved[i - 1].address &&
    (frame.path === "" || frame.path.startsWith("["))
  );
  return resolved.slice(0, end < 0 ? resolved.length : end - 1).map((frame, index) => {
    const out: CrashFrame = {
      index,
      address: `0x${frame.address.toString(16).padStart(16, "0")}`,
      function: frame.functionName ?? "??",
    };
    if (frame.path !== "") out.library = frame.path;
    return out;
  });
}

/**
 * The frames of `addresses` (innermost first), read with `symbolizer` after one more read
 * of the maps (the last copy when the process is gone). When that fails, `onError` hears
 * why and every frame is `??`.
 */
export async function symbolizeFrames(
  symbolizer: Symbolizer,
  addresses: number[],
  onError: (error: unknown) => void,
): Promise<CrashFrame[]> {
  try {
    await symbolizer.refreshMaps();
    const [resolved] = await symbolizer.resolveStacks([addresses]);
    return crashFrames(resolved);
  } catch (error) {
    onError(error);
    return addresses.map((address, index) => ({
      index,
      address: `0x${address.toString(16).padStart(16, "0")}`,
      function: "??",
    }));
  }
}
