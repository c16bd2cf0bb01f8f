/**
 * The checks `wrapp doctor` runs on this machine, in the order they are printed: eBPF,
 * the crash watcher, the debuggers, core dumps, util-linux and binutils, the disk, the
 * config's [limits], and Redis (with its Sentinels and replicas) when one is named.
 *
 * @module
 */

import { describeCause } from "../../core/errors.ts";
import type { Config } from "../../core/config/config.ts";
import type { RedisEndpoint } from "../../core/config/redis_url.ts";
import { preflight } from "../../pipeline/bpf/preflight.ts";
import { uprobePmuType } from "../../pipeline/bpf/native/uprobe_attach.ts";
import {
  checkCoreDumps,
  crashWatcherEngine,
  NativeFatalSignalSource,
  planLimits,
} from "../run/mod.ts";
import type { DoctorCheck } from "./check_result.ts";
import { bpfResults, TRACEPOINTS } from "./bpf_results.ts";
import { kernelResult } from "./kernel_check.ts";
import { debugfsResult } from "./debugfs_check.ts";
import { readMounts } from "../../core/mounts.ts";
import { coreDumpResult, crashWatcherResult } from "./crash_results.ts";
import {
  attachResult,
  gdbserverResult,
  ptraceScopeProblem,
  readPtraceScope,
} from "./debugger_attach.ts";
import { programResult } from "./program_result.ts";
import { diskResult, freeDiskSpace, spoolTarget } from "./disk_check.ts";
import { limitsResult } from "./limits_result.ts";
import { redisResult, replicasCheck } from "./redis_result.ts";

/** The Redis doctor PINGs: its endpoint, the database, and `replicas_ack` to check. */
export interface RedisTarget {
  endpoint: RedisEndpoint;
  db: number;
  /** Also check that the master has that many replicas online. */
  replicasAck?: number;
}

/** What {@linkcode machineChecks} looks at beyond the machine. */
export interface MachineChecksOptions {
  config?: Config;
  redis?: RedisTarget;
  /** Whether `redis` came from --redis rather than the config (only changes the fix). */
  redisFromFlag?: boolean;
}

/** The checks of this machine, in the order they are printed. */
export function machineChecks(options: MachineChecksOptions = {}): DoctorCheck[] {
  const { config } = options;
  const checks: DoctorCheck[] = [
    _ebpfCheck(),
    _crashWatcherCheck(),
    ..._debuggerChecks(config),
    {
      names: ["core dumps"],
      run:
        async () => [coreDumpResult(await checkCoreDumps({ coreDumps: config?.crash.coreDumps }))],
    },
    ..._utilityChecks(),
  ];
  const spool = spoolTarget(config);
  if (spool) checks.push(_diskCheck(spool));
  const limits = config?.limits;
  if (limits) {
    checks.push({
      names: ["limits"],
      run: () => Promise.resolve([limitsResult(planLimits(limits), limits)]),
    });
  }
  if (options.redis) checks.push(..._redisChecks(options.redis, options));
  return checks;
}

/** Root, the kernel, bpftrace, tracefs, debugfs, the tracepoints and BTF. */
function _ebpfCheck(): DoctorCheck {
  return {
    names: ["root", "kernel", "bpftrace", "tracefs", "debugfs", "tracepoints", "btf"],
    run: async () => {
      const report = await preflight({
        mountTracefs: false,
        tracepoints: Object.keys(TRACEPOINTS),
      });
      const results = bpfResults(report);
      const mounts = await readMounts().catch(() => []);
      // Kernel after root, debugfs after tracefs: the order of the table.
      results.splice(1, 0, kernelResult(Deno.osRelease()));
      results.splice(
        results.findIndex((r) => r.check === "tracefs") + 1,
        0,
        debugfsResult(mounts, report.tracefs),
      );
      return results;
    },
  };
}

function _crashWatcherCheck(): DoctorCheck {
  return {
    names: ["crash eBPF"],
    run: async () => {
      const root = Deno.uid() === 0;
      const engine = crashWatcherEngine();
      const native = root && engine !== "bpftrace";
      const nativeFailure = native ? await NativeFatalSignalSource.probe() : undefined;
      return [
        crashWatcherResult({
          root,
          engine,
          nativeFailure,
          noUprobes: native ? _noUprobes() : undefined,
        }),
      ];
    },
  };
}

/** Why this kernel has no uprobe PMU, or `undefined` when it has one. */
function _noUprobes(): string | undefined {
  try {
    uprobePmuType();
    return undefined;
  } catch (error) {
    return describeCause(error);
  }
}

/** gdb (and, for [watchdog], may it attach) and gdbserver (may it attach, for [debug]). */
function _debuggerChecks(config: Config | undefined): DoctorCheck[] {
  return [
    {
      names: ["gdb"],
      run: async () => {
        const found = await programResult({
          check: "gdb",
          program: config?.crash.gdb ?? "gdb",
          feature: config?.watchdog
            ? "crash backtraces from cores, and [watchdog]'s backtraces of a hung service"
            : "crash backtraces from cores",
          fix: "apt-get install gdb",
        });
        // [watchdog] attaches gdb to the live service: the kernel must let it.
        if (!config?.watchdog) return [found];
        const scope = await readPtraceScope();
        return [attachResult(found, ptraceScopeProblem(scope, Deno.uid() === 0, "gdb"))];
      },
    },
    {
      names: ["gdbserver"],
      run: async () => [
        gdbserverResult(
          await programResult({
            check: "gdbserver",
            program: "gdbserver",
            feature: "[debug], step-debugging the service",
            fix: "apt-get install gdbserver",
            // A development tool: only a config with [debug] makes it a problem.
            whenMissing: config ? "missing" : "warning",
          }),
          ptraceScopeProblem(await readPtraceScope(), Deno.uid() === 0),
        ),
      ],
    },
  ];
}

/** setpriv and prlimit (util-linux), c++filt (binutils). */
function _utilityChecks(): DoctorCheck[] {
  return [
    {
      names: ["setpriv"],
      run: async () => [
        await programResult({
          check: "setpriv",
          program: "setpriv",
          feature: "[app] user / group (switching user)",
          fix: "apt-get install util-linux",
        }),
      ],
    },
    {
      names: ["prlimit"],
      run: async () => [
        await programResult({
          check: "prlimit",
          program: "prlimit",
          feature: "[crash] core_dumps = true",
          fix: "apt-get install util-linux",
        }),
      ],
    },
    {
      names: ["c++filt"],
      run: async () => [
        await programResult({
          check: "c++filt",
          program: "c++filt",
          feature: "demangled C++ names in wrapp memprof",
          fix: "apt-get install binutils",
          whenMissing: "warning",
        }),
      ],
    },
  ];
}

function _diskCheck(spool: NonNullable<ReturnType<typeof spoolTarget>>): DoctorCheck {
  return {
    names: ["disk"],
    run: async () => {
      try {
        return [diskResult(spool, await freeDiskSpace(spool.dir))];
      } catch (error) {
        return [{
          check: "disk",
          status: "warning",
          message: `cannot tell the free space for ${spool.what} (${spool.dir}): ${
            describeCause(error)
          }`,
          fix: "apt-get install coreutils (df)",
        }];
      }
    },
  };
}

/** The PING, then the Sentinels and the replicas when the target has them. */
function _redisChecks(redis: RedisTarget, options: MachineChecksOptions): DoctorCheck[] {
  const { config } = options;
  const checks: DoctorCheck[] = [{
    names: ["redis"],
    timesItself: true,
    run: async () => [
      await redisResult(redis.endpoint, {
        db: redis.db,
        fix: config?.redis?.sentinels && !options.redisFromFlag
          ? "start the Sentinels and the master, or fix [redis] sentinels / master_name / password in the config"
          : config?.redis && !options.redisFromFlag
          ? "start redis-server there, or fix [redis] url / host / port / password in the config"
          : "start redis-server there, or fix the --redis URL",
      }),
    ],
  }];
  if (redis.endpoint.sentinels?.length) {
    checks.push({
      names: ["sentinels"],
      run: async () => {
        const { askSentinels } = await import("../../pipeline/sinks/redis_sentinel.ts");
        const { sentinelResult } = await import("./sentinel_results.ts");
        return [sentinelResult(await askSentinels(redis.endpoint), redis.endpoint)];
      },
    });
  }
  const replicasAck = redis.replicasAck ?? 0;
  if (replicasAck > 0) {
    checks.push({
      names: ["replicas"],
      run: async () => [await replicasCheck(redis, replicasAck)],
    });
  }
  return checks;
}
