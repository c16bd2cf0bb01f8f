/**
 * `wrapp doctor`: say what this machine lacks for each of wrapp's features (root, the
 * kernel, bpftrace, tracefs/debugfs and the tracepoints, BTF, gdb, core dumps,
 * util-linux, binutils, free disk for the spool, Redis), as a table with what to do
 * about each problem. With `--config`, only what that service needs decides the exit
 * code. It only looks: it never mounts tracefs nor changes a setting.
 *
 * @module
 */

import { describeCause, UsageError } from "../core/errors.ts";
import { parseFlags } from "./parse_flags.ts";
import { loadConfig } from "../core/config/load_config.ts";
import type { Config, LimitsConfig } from "../core/config/config.ts";
import { type LimitsPlan, planLimits } from "../features/run/service_cgroup.ts";
import { describeSize, formatBytes } from "../core/config/parse_size.ts";
import { parseRedisUrl, type RedisEndpoint, redisUrlProblem } from "../core/config/redis_url.ts";
import {
  MIN_BPFTRACE_VERSION,
  preflight,
  type PreflightReport,
} from "../pipeline/bpf/preflight.ts";
import {
  checkCoreDumps,
  type CoreDumpCheck,
  type DiskSpace,
  freeDiskSpace,
  type Mount,
  parseKernelRelease,
  ptraceScopeProblem,
  readMounts,
  readPtraceScope,
} from "../features/run/crash/doctor_checks.ts";
import { basename, dirname } from "node:path";
import { defaultStateDir } from "../core/config/state_dir.ts";
import { findProgram } from "../core/find_executable.ts";
import {
  type CrashWatcherEngine,
  crashWatcherEngine,
} from "../features/run/crash/ebpf_backtrace.ts";
import { NativeFatalSignalSource } from "../features/run/crash/native_fatal_signal.ts";

/** Oldest kernel wrapp's eBPF programs run on (bpftrace's own minimum). */
export const MIN_KERNEL_VERSION: readonly [number, number] = [4, 9];

/** `wrapp doctor --help`. */
export const DOCTOR_HELP = `Usage: wrapp doctor [options]

Say what this machine lacks for wrapp's features, as a table, one line per check:
  ✓ ok    ! warning (works, with less)    ✗ missing (a feature will not work)
  - missing, but the --config service does not use it
and, under each problem, what to do (→). doctor only looks: it mounts nothing and
changes no setting. Run it with sudo to see everything (tracefs is root's).

Checks: root, the kernel (${MIN_KERNEL_VERSION.join(".")} or newer for eBPF), bpftrace (${
  MIN_BPFTRACE_VERSION.join(".")
} or newer), tracefs,
debugfs, the tracepoints wrapp attaches to, BTF (informational), crash eBPF (are
wrapp's own eBPF programs accepted: loaded and closed at once; else bpftrace is used),
gdb, gdbserver (and whether the kernel lets it attach), core dumps (core_pattern, RLIMIT_CORE), setpriv and
prlimit (util-linux), c++filt (binutils), free disk where the Redis spool goes, Redis
when --config or --redis names one, and how the --config service's [limits] will be
enforced (its own cgroup, or wrapp watching its RSS) and why.

Options:
  -c, --config FILE    check for this service config: its gdb, [crash] core_dumps, its
                       [redis] server (PING) and spool folder; only what the config
                       uses ([trace], [memprof], [app] user, [crash], [redis],
                       [debug]) counts for the exit code
      --redis URL      PING this server: redis://[user:password@]host:port or rediss://
      --json           print a JSON array of {"check","status","needed","message","fix"?},
                       status being "ok", "warning" or "missing"; needed is false for
                       what the --config service does not use
  -h, --help           show this help

Exit code 1 when something needed is missing (everything is needed without --config;
warnings never count), else 0.

Examples:
  sudo wrapp doctor
  sudo wrapp doctor --config /etc/wrapp/robot.toml
  wrapp doctor --redis redis://10.0.0.2:6379 --json`;

/** How a check came out. */
export type CheckStatus = "ok" | "warning" | "missing";

/** One line of the report. */
export interface CheckResult {
  /** Short name: `root`, `bpftrace`, `redis`… */
  check: string;
  /** `missing` means a feature will not work; `warning` that it works with less. */
  status: CheckStatus;
  /** What was found, one sentence. Never holds a password. */
  message: string;
  /** What to do about it (a command, a sysctl, a config key), for a problem. */
  fix?: string;
  /** False when the `--config` service does not use what this check is for. Default true. */
  needed?: boolean;
}

/** A check to run: it may answer for several names (preflight answers for five). */
export interface DoctorCheck {
  /** The names of the results it yields, in order (used when it fails or times out). */
  names: readonly string[];
  /** Run it. It should not throw; if it does, its names are reported as warnings. */
  run: () => Promise<CheckResult[]>;
  /**
   * The check bounds its own waits (a network answer) and reports a timeout as its own
   * verdict, so {@linkcode runChecks} gives it no budget of its own: on a busy machine the
   * set-up before the wait (loading a client) would eat that budget and turn "no answer"
   * into "could not be checked". Default `false`.
   */
  timesItself?: boolean;
}

/** The tracepoints wrapp's bpftrace programs attach to, and what needs each. */
export const TRACEPOINTS: Readonly<Record<string, string>> = {
  "raw_syscalls:sys_enter": "wrapp trace, wrapp record",
  "raw_syscalls:sys_exit": "wrapp trace, wrapp record",
  "task:task_rename": "wrapp trace, wrapp record (thread names)",
  "sched:sched_process_fork": "wrapp trace, wrapp record, wrapp memprof",
  "kmem:mm_page_alloc": "wrapp memprof",
  "kmem:mm_page_free": "wrapp memprof",
  "signal:signal_generate": "eBPF crash backtraces",
  "sched:sched_process_exec": "eBPF crash backtraces",
};

/** Default `[redis] spool_max_bytes`: the disk the spool may take. */
const _DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;

/** Each check is given this long before it is reported as timed out, ms. */
export const CHECK_TIMEOUT_MS = 2500;

/** What the command needs from its caller. */
export interface DoctorContext {
  /** Print one line (or block) to stdout. */
  print(text: string): void;
  /** Debug output (`WRAPP_DEBUG`). */
  debug: (message: string) => void;
}

/** Run `wrapp doctor ARGS…`; resolves to the exit code (0, or 1 when something is missing). */
export async function doctorCommand(
  args: readonly string[],
  context: DoctorContext,
): Promise<number> {
  const options = _parse(args);
  if (options === "help") {
    context.print(DOCTOR_HELP);
    return 0;
  }
  const config = options.config === undefined
    ? undefined
    : await loadConfig(options.config, { checkExecutable: false });
  let redis: { endpoint: RedisEndpoint; db: number; replicasAck?: number } | undefined;
  if (options.redis !== undefined) {
    const endpoint = parseRedisUrl(options.redis);
    if (!endpoint) {
      // The URL is not echoed: it may hold a password.
      throw new UsageError(`Invalid --redis: ${redisUrlProblem(options.redis)}`);
    }
    endpoint.password ??= Deno.env.get("WRAPP_REDIS_PASSWORD") || undefined;
    redis = { endpoint, db: 0 };
  } else if (config?.redis) {
    const { host, port, tls, username, password, dbLogs, replicasAck } = config.redis;
    const { sentinels, masterName, sentinelUsername, sentinelPassword } = config.redis;
    const endpoint: RedisEndpoint = { host, port, tls, username, password };
    if (sentinels) {
      Object.assign(endpoint, { sentinels, masterName, sentinelUsername, sentinelPassword });
    }
    redis = { endpoint, db: dbLogs, replicasAck };
  }
  const started = performance.now();
  const results = await runChecks(
    machineChecks({
      config,
      redis,
      redisFromFlag: options.redis !== undefined,
    }),
    CHECK_TIMEOUT_MS,
  );
  context.debug(
    `doctor: ${results.length} checks in ${Math.round(performance.now() - started)} ms`,
  );
  const needs = neededChecks(config);
  const judged = results.map(({ check, status, message, fix }): CheckResult => ({
    check,
    status,
    needed: needs(check),
    message,
    ...(fix === undefined ? {} : { fix }),
  }));
  context.print(
    options.json ? JSON.stringify(judged, null, 2) : formatResults(judged, {
      configName: config ? basename(config.file) : undefined,
      width: _terminalWidth(),
    }),
  );
  return exitCodeOf(judged);
}

/** The checks of this machine, in the order they are printed. */
export function machineChecks(
  options: {
    config?: Config;
    /** `replicasAck`: also check that the master has that many replicas online. */
    redis?: { endpoint: RedisEndpoint; db: number; replicasAck?: number };
    /** Whether `redis` came from --redis rather than the config (only changes the fix). */
    redisFromFlag?: boolean;
  } = {},
): DoctorCheck[] {
  const { config, redis } = options;
  const checks: DoctorCheck[] = [
    {
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
    },
    {
      names: ["crash eBPF"],
      run: async () => {
        const root = Deno.uid() === 0;
        const engine = crashWatcherEngine();
        const nativeFailure = root && engine !== "bpftrace"
          ? await NativeFatalSignalSource.probe()
          : undefined;
        return [crashWatcherResult({ root, engine, nativeFailure })];
      },
    },
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
    {
      names: ["core dumps"],
      run:
        async () => [coreDumpResult(await checkCoreDumps({ coreDumps: config?.crash.coreDumps }))],
    },
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
  const spool = spoolTarget(config);
  if (spool) {
    checks.push({
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
    });
  }
  const limits = config?.limits;
  if (limits) {
    checks.push({
      names: ["limits"],
      run: () => Promise.resolve([limitsResult(planLimits(limits), limits)]),
    });
  }
  if (redis) {
    checks.push({
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
    });
    if (redis.endpoint.sentinels?.length) {
      checks.push({
        names: ["sentinels"],
        run: async () => {
          const { askSentinels } = await import("../pipeline/sinks/redis_sentinel.ts");
          const { sentinelResult } = await import("./doctor_sentinel.ts");
          return [sentinelResult(await askSentinels(redis.endpoint), redis.endpoint)];
        },
      });
    }
    const replicasAck = redis.replicasAck ?? 0;
    if (replicasAck > 0) {
      checks.push({ names: ["replicas"], run: async () => [await _replicas(redis, replicasAck)] });
    }
  }
  return checks;
}

/**
 * Run `checks` concurrently, each given `timeoutMs`, and return their results in the
 * order of `checks`. A check that throws or times out is reported as a warning per name.
 */
export async function runChecks(
  checks: readonly DoctorCheck[],
  timeoutMs: number = CHECK_TIMEOUT_MS,
): Promise<CheckResult[]> {
  const settled = await Promise.all(checks.map(async (check) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const outcome =
        await (check.timesItself ? check.run() : Promise.race([check.run(), timeout]));
      if (outcome === "timeout") {
        return check.names.map((check): CheckResult => ({
          check,
          status: "warning",
          message: `could not be checked: no answer within ${timeoutMs} ms`,
        }));
      }
      return outcome;
    } catch (error) {
      return check.names.map((check): CheckResult => ({
        check,
        status: "warning",
        message: `could not be checked: ${describeCause(error)}`,
      }));
    } finally {
      clearTimeout(timer);
    }
  }));
  return settled.flat();
}

/** The root, bpftrace, tracefs, tracepoints and BTF lines from a preflight report. */
export function bpfResults(
  report: PreflightReport,
  tracepoints: Readonly<Record<string, string>> = TRACEPOINTS,
): CheckResult[] {
  const results: CheckResult[] = [];
  results.push(
    report.root ? { check: "root", status: "ok", message: "running as root" } : {
      check: "root",
      status: "missing",
      message:
        "not running as root: wrapp needs root for [app] user switching, eBPF (trace, memprof, record, [trace]) and mounting tracefs",
      fix: "run wrapp (and wrapp doctor, to see every check) with sudo",
    },
  );

  const minimum = MIN_BPFTRACE_VERSION.join(".");
  const bpftraceProblem = report.problems.find((p) =>
    p.startsWith("bpftrace") || p.includes("--version")
  );
  if (report.bpftrace && bpftraceProblem === undefined) {
    results.push({
      check: "bpftrace",
      status: "ok",
      message: `bpftrace ${report.bpftrace.version} at ${report.bpftrace.path}`,
    });
  } else {
    results.push({
      check: "bpftrace",
      status: "missing",
      message: `${
        (bpftraceProblem ?? "bpftrace is not usable").replace(/: install it with .*$/, "")
      } (needed by wrapp trace, memprof and record, and [trace])`,
      fix: report.bpftrace
        ? `install bpftrace ${minimum} or newer (Ubuntu 22.04 / JetPack 6: apt-get install bpftrace), or set $WRAPP_BPFTRACE to one`
        : `apt-get install bpftrace (${minimum} or newer), or set $WRAPP_BPFTRACE to its path`,
    });
  }

  if (report.tracefs !== undefined) {
    results.push({ check: "tracefs", status: "ok", message: `tracefs at ${report.tracefs}` });
  } else {
    const problem = report.problems.find((p) => p.startsWith("tracefs")) ??
      "tracefs is not mounted";
    results.push({
      check: "tracefs",
      // wrapp mounts it by itself when it runs as root; only a non-root run cannot.
      status: report.root ? "warning" : "missing",
      message: report.root
        ? `${
          problem.replace(/: mount it with .*$/, "")
        }; wrapp mounts it when it starts bpftrace (doctor does not)`
        : problem,
      fix: "mount -t tracefs nodev /sys/kernel/tracing (or add it to /etc/fstab)",
    });
  }

  const names = Object.keys(tracepoints);
  if (report.tracefs === undefined || !report.root) {
    results.push({
      check: "tracepoints",
      status: "warning",
      message: `not checked: ${
        report.root ? "tracefs is not mounted" : "only root can read tracefs"
      } (wrapp uses ${names.join(", ")})`,
      fix: report.root
        ? "mount tracefs, then run wrapp doctor again"
        : "run wrapp doctor with sudo",
    });
  } else if (report.missingTracepoints.length === 0) {
    results.push({
      check: "tracepoints",
      status: "ok",
      message: `all ${names.length} present: ${names.join(", ")}`,
    });
  } else {
    const features = [
      ...new Set(report.missingTracepoints.flatMap((t) => (tracepoints[t] ?? "").split(", "))),
    ].filter((f) => f !== "");
    const syscalls = report.missingTracepoints.some((t) => t.startsWith("raw_syscalls:"));
    results.push({
      check: "tracepoints",
      status: "missing",
      message: `the kernel has no tracepoint ${report.missingTracepoints.join(", ")}${
        features.length > 0 ? `, so ${features.join(", ")} will not work` : ""
      }`,
      fix: syscalls
        ? "a kernel built with CONFIG_FTRACE_SYSCALLS=y (and CONFIG_TRACEPOINTS=y)"
        : "a kernel built with CONFIG_TRACEPOINTS=y and CONFIG_FTRACE=y",
    });
  }

  results.push({
    check: "btf",
    status: "ok",
    message: report.btf
      ? "the kernel has BTF (/sys/kernel/btf/vmlinux); wrapp does not need it"
      : "the kernel has no BTF (/sys/kernel/btf/vmlinux); fine: wrapp's programs use tracepoints only",
  });
  return results;
}

/**
 * The crash watcher line: which programs will record crash stacks, the native ones
 * (loaded by wrapp, no bpftrace process) or bpftrace, and why.
 */
export function crashWatcherResult(
  probe: { root: boolean; engine: CrashWatcherEngine; nativeFailure?: string },
): CheckResult {
  const check = "crash eBPF";
  if (!probe.root) {
    return {
      check,
      status: "warning",
      message: "not root: no eBPF crash backtraces (cores and gdb still work)",
      fix: "run wrapp as root",
    };
  }
  if (probe.engine === "bpftrace") {
    return {
      check,
      status: "ok",
      message:
        "bpftrace, as $WRAPP_CRASH_WATCHER asks (about 100 MiB and 1 s of start-up per wrapp)",
    };
  }
  if (probe.nativeFailure === undefined) {
    return { check, status: "ok", message: "native eBPF programs loaded by wrapp (no bpftrace)" };
  }
  return {
    check,
    status: probe.engine === "native" ? "missing" : "warning",
    message: `the native programs cannot load: ${probe.nativeFailure}; ${
      probe.engine === "native"
        ? "no eBPF crash backtraces ($WRAPP_CRASH_WATCHER=native)"
        : "bpftrace will be used (about 100 MiB and 1 s more per wrapp)"
    }`,
    fix: "Linux 5.8 or newer (BPF ring buffer) and CAP_BPF, CAP_PERFMON (or CAP_SYS_ADMIN)",
  };
}

/** The kernel line: its release, and whether it is recent enough for eBPF. */
export function kernelResult(release: string, arch: string = Deno.build.arch): CheckResult {
  const version = parseKernelRelease(release);
  const minimum = MIN_KERNEL_VERSION.join(".");
  if (!version) {
    return {
      check: "kernel",
      status: "warning",
      message:
        `Linux "${release}" (${arch}): cannot tell its version; eBPF needs ${minimum} or newer`,
      fix: "check uname -r",
    };
  }
  const [major, minor] = version;
  if (
    major < MIN_KERNEL_VERSION[0] ||
    (major === MIN_KERNEL_VERSION[0] && minor < MIN_KERNEL_VERSION[1])
  ) {
    return {
      check: "kernel",
      status: "missing",
      message:
        `Linux ${release} (${arch}) is too old for eBPF tracing: bpftrace needs ${minimum} or newer (wrapp trace, memprof, record, [trace])`,
      fix: `a kernel ${minimum} or newer (JetPack 5 has 5.10, JetPack 6 has 5.15)`,
    };
  }
  return { check: "kernel", status: "ok", message: `Linux ${release} (${arch})` };
}

/**
 * The debugfs line. Old kernels show tracing only under debugfs
 * (`/sys/kernel/debug/tracing`); with tracefs mounted on its own, debugfs is not needed.
 */
export function debugfsResult(mounts: readonly Mount[], tracefs: string | undefined): CheckResult {
  const debugfs = mounts.find((m) => m.type === "debugfs");
  if (debugfs) return { check: "debugfs", status: "ok", message: `debugfs at ${debugfs.dir}` };
  if (tracefs !== undefined) {
    return {
      check: "debugfs",
      status: "ok",
      message: `not mounted; not needed: tracefs is at ${tracefs}`,
    };
  }
  return {
    check: "debugfs",
    status: "warning",
    message:
      "not mounted, and neither is tracefs: kernels without a separate tracefs show tracing only under debugfs",
    fix: "mount -t debugfs nodev /sys/kernel/debug",
  };
}

/** Where the spool (or, without [redis], the local trace) goes, and how much it may take. */
export interface SpoolTarget {
  /** The folder. */
  dir: string;
  /** What it is, for the message: `the spool`, `the local traces`. */
  what: string;
  /** How much it may grow to, bytes; undefined when unbounded. */
  limitBytes?: number;
}

/**
 * What the disk check looks at: the config's `[redis] spool_dir`, else its local trace
 * folder; without a config, wrapp's state folder (`/var/lib/wrapp` as root).
 */
export function spoolTarget(
  config: Config | undefined,
  options: { env?: (name: string) => string | undefined; uid?: number | null } = {},
): SpoolTarget | undefined {
  if (config?.redis) {
    return {
      dir: config.redis.spoolDir,
      what: "the spool",
      limitBytes: config.redis.spoolMaxBytes,
    };
  }
  if (config) return { dir: config.local.dir, what: "the local traces" };
  const state = defaultStateDir("x", {
    env: options.env ?? ((name) => Deno.env.get(name)),
    uid: options.uid === undefined ? Deno.uid() : options.uid,
  });
  return state === undefined
    ? undefined
    : { dir: dirname(state), what: "spools and traces", limitBytes: _DEFAULT_SPOOL_BYTES };
}

/** The disk line: free space where `target` goes, against what it may take. */
export function diskResult(target: SpoolTarget, space: DiskSpace): CheckResult {
  const free = formatBytes(space.availableBytes);
  const where = `${free} free on ${space.mount} for ${target.what} (${target.dir}${
    target.limitBytes ? `, up to ${formatBytes(target.limitBytes)}` : ""
  })`;
  const fix = `free space on ${space.mount}${
    target.what === "the spool" ? ", or lower [redis] spool_max_bytes / move spool_dir" : ""
  }`;
  if (space.availableBytes < 16 * 1024 * 1024) {
    return {
      check: "disk",
      status: "missing",
      message: `only ${where}: events waiting for Redis and traces will be dropped`,
      fix,
    };
  }
  if (target.limitBytes !== undefined && space.availableBytes < target.limitBytes) {
    return {
      check: "disk",
      status: "warning",
      message: `only ${where}: the disk fills before the limit, and events are dropped then`,
      fix,
    };
  }
  return { check: "disk", status: "ok", message: where };
}

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

/** The `[limits]` line: how the limits will be enforced, and why. */
export function limitsResult(plan: LimitsPlan, limits: LimitsConfig): CheckResult {
  const what = [
    ...(limits.memoryMaxBytes !== undefined
      ? [`memory_max ${describeSize(limits.memoryMaxBytes)}`]
      : []),
    ...(limits.cpuMaxPercent !== undefined ? [`cpu_max ${limits.cpuMaxPercent}%`] : []),
  ].join(", ");
  const fix =
    "run wrapp as root where cgroups are mounted writable, for limits the kernel enforces";
  switch (plan.method) {
    case "cgroup":
      return {
        check: "limits",
        status: "ok",
        message: `${what} in a cgroup of the service's own, because ${plan.reason}`,
      };
    case "rss":
      return {
        check: "limits",
        status: "warning",
        message:
          `memory_max: wrapp stops the service when its RSS goes over it, because ${plan.reason}${
            plan.unenforced ? `; ${plan.unenforced}` : ""
          }`,
        fix,
      };
    case "none":
      return {
        check: "limits",
        status: "warning",
        message: plan.unenforced ?? `${what} not enforced: ${plan.reason}`,
        fix,
      };
  }
}

/** The core-dump line from {@linkcode checkCoreDumps}'s verdict. */
export function coreDumpResult(check: CoreDumpCheck): CheckResult {
  if (check.ok && /so services write no core unless/.test(check.message)) {
    // Cores would be kept, but wrapp's RLIMIT_CORE of 0 is what services inherit.
    return {
      check: "core dumps",
      status: "warning",
      message: check.message,
      fix:
        "set [crash] core_dumps = true in the service config (or raise LimitCORE= of wrapp's unit)",
    };
  }
  if (check.ok) return { check: "core dumps", status: "ok", message: check.message };
  let fix: string;
  if (/discarded|cannot read back/.test(check.message)) {
    fix =
      "sysctl -w kernel.core_pattern=/var/crash/core.%e.%p.%t (and mkdir -p -m 1777 /var/crash)";
  } else if (/folder "([^"]+)"/.test(check.message)) {
    const folder = /folder "([^"]+)"/.exec(check.message)![1];
    fix = `mkdir -p -m 1777 ${folder}`;
  } else if (/coredumpctl is missing/.test(check.message)) {
    fix = "apt-get install systemd-coredump";
  } else if (/Storage=none/.test(check.message)) {
    fix = "set Storage=external in /etc/systemd/coredump.conf";
  } else if (/core_dumps = true/.test(check.message)) {
    fix = "set [crash] core_dumps = true in the service config";
  } else {
    fix = "sysctl -w kernel.core_pattern=/var/crash/core.%e.%p.%t";
  }
  return {
    check: "core dumps",
    status: "missing",
    message: `${check.message} (crash reports will have no core, hence no backtrace)`,
    fix,
  };
}

/**
 * The gdbserver line: `found` from {@linkcode programResult}, made a problem when the
 * kernel would not let gdbserver attach to the service (`ptraceProblem`).
 */
export function gdbserverResult(found: CheckResult, ptraceProblem?: string): CheckResult {
  return attachResult({ ...found, check: "gdbserver" }, ptraceProblem);
}

/**
 * A debugger's line (`found` from {@linkcode programResult}: gdb for [watchdog], gdbserver
 * for [debug]) made a problem when the kernel would not let it attach to the service.
 */
export function attachResult(found: CheckResult, ptraceProblem?: string): CheckResult {
  if (found.status !== "ok" || ptraceProblem === undefined) return found;
  return {
    check: found.check,
    status: "missing",
    message: `${found.message}, but ${ptraceProblem}`,
    fix: /is 3/.test(ptraceProblem)
      ? "boot with kernel.yama.ptrace_scope below 3 (it cannot be lowered at run time)"
      : "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0",
  };
}

/** Whether `program` is installed. */
export async function programResult(spec: {
  check: string;
  program: string;
  feature: string;
  fix: string;
  whenMissing?: CheckStatus;
  path?: string;
}): Promise<CheckResult> {
  const found = await findProgram(spec.program, spec.path);
  if (found !== undefined) return { check: spec.check, status: "ok", message: found };
  return {
    check: spec.check,
    status: spec.whenMissing ?? "missing",
    message: `${
      spec.program.includes("/")
        ? `no executable file at "${spec.program}"`
        : `"${spec.program}" is not in PATH`
    } (needed for ${spec.feature})`,
    fix: spec.fix,
  };
}

/** The `replicas` line: the master's replicas online against `replicas_ack`. */
async function _replicas(
  redis: { endpoint: RedisEndpoint; db: number },
  required: number,
): Promise<CheckResult> {
  const { connectRedis } = await import("../pipeline/sinks/redis_connection.ts");
  const { replicasResult } = await import("./doctor_sentinel.ts");
  let client;
  try {
    client = await connectRedis(redis.endpoint, {
      db: redis.db,
      name: "wrapp:doctor",
      connectTimeoutMs: 2000,
    });
    return replicasResult(String(await client.call("INFO", "replication")), required);
  } catch (error) {
    return {
      check: "replicas",
      status: "missing",
      message: `cannot ask the master for its replicas: ${
        error instanceof Error ? error.message : String(error)
      }`,
      fix: "see the redis line",
    };
  } finally {
    client?.disconnect();
  }
}

/** PING Redis at `endpoint`; the message names host:port only, never the password. */
export async function redisResult(
  endpoint: RedisEndpoint,
  options: { db?: number; timeoutMs?: number; fix?: string } = {},
): Promise<CheckResult> {
  // Loaded here so that a doctor without Redis does not load the Redis client.
  const { connectRedis, describeEndpoint, describeRedisError, redisAddress } = await import(
    "../pipeline/sinks/redis_connection.ts"
  );
  const address = redisAddress(endpoint);
  const sentinel = (endpoint.sentinels?.length ?? 0) > 0;
  // `at "host:port"`, or `master "m" via Sentinel "…"`.
  const where = sentinel ? describeEndpoint(endpoint) : `at "${address}"`;
  const fix = options.fix ?? "start redis-server there, or check its address and password";
  const timeoutMs = options.timeoutMs ?? 2000;
  let client;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A server that accepts but never answers (hung, or not Redis) would leave connect()
    // waiting for its ready check: give up after timeoutMs.
    client = await Promise.race([
      connectRedis(endpoint, {
        db: options.db ?? 0,
        name: "wrapp:doctor",
        connectTimeoutMs: timeoutMs,
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Cannot connect to Redis ${where}: no answer within ${timeoutMs} ms`,
              ),
            ),
          // With Sentinels, connectRedis() says precisely which part did not answer.
          sentinel ? timeoutMs + 1000 : timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    return {
      check: "redis",
      status: "missing",
      message: error instanceof Error ? error.message : String(error),
      fix,
    };
  } finally {
    clearTimeout(timer);
  }
  try {
    // Connected, but a server may still stop answering before the PING.
    const reply = await Promise.race([
      client.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const from = sentinel
      ? `master "${endpoint.masterName}" at ${
        redisAddress({
          host: client.address?.host ?? "?",
          port: client.address?.port ?? 0,
        })
      } (named by the Sentinels)`
      : address;
    return {
      check: "redis",
      status: "ok",
      message: `${reply} from ${from}${endpoint.tls ? " (TLS)" : ""}, db ${options.db ?? 0}`,
    };
  } catch (error) {
    return {
      check: "redis",
      status: "missing",
      message: `Cannot connect to Redis ${where}: ${describeRedisError(error)}`,
      fix,
    };
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * How many results are missing and needed (problems), warnings, and missing but not
 * needed by the `--config` service.
 */
export function countResults(results: readonly CheckResult[]): {
  problems: number;
  warnings: number;
  unneeded: number;
} {
  return {
    problems: results.filter((r) => r.status === "missing" && r.needed !== false).length,
    warnings: results.filter((r) => r.status === "warning").length,
    unneeded: results.filter((r) => r.status === "missing" && r.needed === false).length,
  };
}

/** 1 when something needed is missing, else 0. */
export function exitCodeOf(results: readonly CheckResult[]): number {
  return countResults(results).problems > 0 ? 1 : 0;
}

const _MARKS: Record<CheckStatus, string> = { ok: "✓", warning: "!", missing: "✗" };

/** Options for {@linkcode formatResults}. */
export interface FormatResultsOptions {
  /** The `--config` file's name, for the count line. */
  configName?: string;
  /** Wrap the result column to this many characters (a terminal's width). Default: no wrapping. */
  width?: number;
}

/**
 * The text report, a table:
 *
 * ```
 *   CHECK        RESULT
 * ✓ root         running as root
 * ✗ gdb          "gdb" is not in PATH (needed for crash backtraces from cores)
 *                → apt-get install gdb
 * 1 problem, 0 warnings
 * ```
 *
 * `-` marks a check missing but not needed by the `--config` service.
 */
export function formatResults(
  results: readonly CheckResult[],
  options: FormatResultsOptions = {},
): string {
  const width = Math.max(5, ...results.map((r) => r.check.length));
  const indent = " ".repeat(width + 4);
  const wrap = (text: string): string[] =>
    options.width ? _wrap(text, Math.max(30, options.width - indent.length)) : [text];
  const lines = [`  ${"CHECK".padEnd(width)}  RESULT`];
  for (const result of results) {
    const mark = result.status === "missing" && result.needed === false
      ? "-"
      : _MARKS[result.status];
    const [first, ...rest] = wrap(result.message);
    lines.push(`${mark} ${result.check.padEnd(width)}  ${first}`);
    for (const line of rest) lines.push(indent + line);
    if (result.fix !== undefined && result.status !== "ok") {
      const [fix, ...more] = wrap(`→ ${result.fix}`);
      lines.push(indent + fix);
      for (const line of more) lines.push(`${indent}  ${line}`);
    }
  }
  const { problems, warnings, unneeded } = countResults(results);
  lines.push(
    `${problems} ${problems === 1 ? "problem" : "problems"}, ${warnings} ${
      warnings === 1 ? "warning" : "warnings"
    }${
      unneeded > 0
        ? `; ${unneeded} missing but not used by ${options.configName ?? "the config"}`
        : ""
    }`,
  );
  return lines.join("\n");
}

/** Break `text` into lines of at most `width` characters, at spaces where it can. */
function _wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** The terminal's width when stdout is one (the table is then wrapped to it). */
function _terminalWidth(): number | undefined {
  try {
    return Deno.stdout.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    return undefined;
  }
}

function _parse(
  args: readonly string[],
): { config?: string; redis?: string; json: boolean } | "help" {
  const spec = {
    config: { type: "string", short: "c" },
    redis: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const parsed = parseFlags("doctor", args, spec, Infinity);
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new UsageError(
      `Too many arguments for "wrapp doctor": ${
        positionals.join(" ")
      } (a config goes after --config)`,
    );
  }
  return { config: values.config, redis: values.redis, json: values.json === true };
}
