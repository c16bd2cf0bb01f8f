/**
 * Which of doctor's checks count for the exit code, given the `--config` service.
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";

/**
 * Which checks count for the exit code: every one without a config; with one, those of
 * the features it uses (root for [app] user, [trace], [memprof]; the eBPF checks for
 * [trace] and [memprof]; gdb and core dumps for [crash], gdb for [watchdog]; setpriv for [app] user;
 * prlimit for [crash] core_dumps; disk and redis for [redis]; gdbserver for [debug]).
 */
export function neededChecks(config: Config | undefined): (check: string) => boolean {
  if (!config) return () => true;
  const ebpf = config.trace !== undefined || config.memprof !== undefined;
  const user = config.app.user !== undefined || config.app.group !== undefined;
  const needed: Record<string, boolean> = {
    root: ebpf || user,
    kernel: ebpf,
    bpftrace: ebpf,
    tracefs: ebpf,
    debugfs: ebpf,
    tracepoints: ebpf,
    btf: false,
    "crash eBPF": config.crash.enabled && config.crash.ebpfBacktrace,
    gdb: config.crash.enabled || config.watchdog !== undefined,
    gdbserver: config.debug !== undefined,
    "core dumps": config.crash.enabled,
    setpriv: user,
    prlimit: config.crash.coreDumps,
    "c++filt": config.memprof !== undefined,
    disk: config.redis !== undefined || config.local.enabled,
    redis: config.redis !== undefined,
    limits: config.limits !== undefined,
    sentinels: config.redis?.sentinels !== undefined,
    replicas: (config.redis?.replicasAck ?? 0) > 0,
  };
  return (check) => needed[check] ?? true;
}
