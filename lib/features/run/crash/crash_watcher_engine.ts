/**
 * Which programs the crash watcher loads: its own (native) or bpftrace's, as
 * `$WRAPP_CRASH_WATCHER` or the caller asks.
 *
 * @module
 */

/**
 * Which programs watch: `native` (wrapp loads them itself), `bpftrace`
 * (`bpf/fatal_signal.bt`), or `auto`: native, else bpftrace.
 */
export type CrashWatcherEngine = "auto" | "native" | "bpftrace";

/** The engine `$WRAPP_CRASH_WATCHER` asks for (`native`, `bpftrace`), else `auto`. */
export function crashWatcherEngine(
  value: string | undefined = Deno.env.get("WRAPP_CRASH_WATCHER"),
): CrashWatcherEngine {
  return value === "native" || value === "bpftrace" ? value : "auto";
}
