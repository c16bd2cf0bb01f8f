/**
 * What other features may use of run (the supervisor of `wrapp run` / `wrapp up`): what
 * `wrapp doctor` asks of it, whether a crash would leave a core wrapp can read, which
 * crash watcher it would start (and can its native programs load), and how a config's
 * `[limits]` would be enforced.
 *
 * Nothing under lib/features/run/ imports this file: the run path loads what it needs
 * lazily, and a re-export here must not pull anything into it.
 *
 * @module
 */

export {
  checkCoreDumps,
  type CheckCoreDumpsOptions,
  type CoreDumpCheck,
} from "./crash/doctor_checks.ts";
export { type CrashWatcherEngine, crashWatcherEngine } from "./crash/crash_watcher_engine.ts";
export { NativeFatalSignalSource } from "./crash/native_fatal_signal.ts";
export { type LimitsPlan, planLimits } from "./service_cgroup.ts";
