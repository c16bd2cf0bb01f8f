/**
 * `wrapp record`: trace a real application under a real workload — redis, nginx,
 * PostgreSQL, or any command — into `traces/<app>_<timestamp>/` (trace.json, summary.txt,
 * metadata.json).
 *
 * @module
 */

import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { didYouMean } from "../core/did_you_mean.ts";
import { STREAM_NAME_PATTERN } from "../core/config/load_config.ts";
import { requireSyscallTracing } from "../pipeline/syscalls/syscall_session.ts";
import { DEFAULT_THRESHOLD_SIGMA } from "../pipeline/syscalls/anomaly_detector.ts";
import { DEFAULT_FLOOR_NS } from "../pipeline/syscalls/syscall_tracer.ts";
import { requirePrograms } from "../features/record/app_programs.ts";
import { customAppName, customPlan } from "../features/record/custom_workload.ts";
import { recordApplication, type RecordResult } from "../features/record/recorder.ts";
import { splitShellWords } from "../features/record/shell_words.ts";
import { describeWorkloads, WORKLOAD_ALIASES, WORKLOADS } from "../features/record/workloads.ts";
import { parseFlags, parseThresholdFlag } from "./parse_flags.ts";
import { parseDurationFlag, parseDurationNs } from "../core/parse_duration.ts";
import { stderrNotice } from "./notice.ts";

/** Default duration of the load, ms. */
export const DEFAULT_RECORD_DURATION_MS = 10_000;
/** Default folder recordings go in. */
export const DEFAULT_RECORD_DIR = "traces";

const _NAMES = Object.keys(WORKLOADS).join(", ");

/** `wrapp record --help`. */
export const RECORD_HELP = `Usage: sudo wrapp record [options] APP        (APP: ${_NAMES})
       sudo wrapp record [options] --custom "COMMAND [ARGS...]"
       wrapp record --list

Record a real application under a real workload: wrapp starts it on a free loopback
port with its own temporary config and data, traces it from its exec on with the eBPF
sidecar (bpf/syscalls.bt: syscalls per thread, slow syscalls, anomalies) while a load
generator drives it, samples its processes' memory and lifetimes from /proc, then stops
everything it started and writes:

  traces/<app>_<YYYYMMDD-HHMMSS>/  (UTC; traces/latest points at the newest)
    trace.json     Perfetto trace (https://ui.perfetto.dev): a track per thread of the
                   application with its slow syscalls as slices (anomalies marked),
                   syscall rates per thread, memory (RSS, anon, file) per process, each
                   process's lifetime, and the phases (setup, start, load, stop)
    summary.txt    the load generator's figures, the processes, a strace -c -w style
                   table per thread, the top anomalies
    metadata.json  app, command, versions (app, wrapp, bpftrace), kernel, arch, host,
                   start, end, duration, event and lost-event counts, exit status
    app.log, workload.log   what the application and the load generator printed

Workloads (wrapp record --list says which are installed):
  redis        redis-server, no persistence; redis-benchmark SET/GET/PING, 10 clients
  nginx        nginx, a generated config and 16 KiB page; wrk 2 threads x 16
               connections (curl one request at a time without wrk)
  postgresql   initdb, postgres run as the postgres user, unix socket in the temporary
               folder; pgbench -i, then pgbench -T with 4 clients
  --custom     any command: traced until it exits or --duration passes (then SIGTERM
               to its process group); the trace follows the processes it starts

Options:
  -l, --list             list the workloads, what they run, whether it is installed
      --custom COMMAND   record this command instead of a workload: one string, split
                         into words like a shell does (quotes work; no pipes,
                         redirections or variables: use --custom "sh -c '...'")
  -d, --duration TIME    how long the load runs (default ${
  DEFAULT_RECORD_DURATION_MS / 1000
}s; whole seconds for nginx and
                         postgresql); with --custom, 0 means until the command exits
  -o, --out DIR          folder for the recordings (default ./${DEFAULT_RECORD_DIR})
      --floor TIME       syscalls at least this slow are drawn one by one and judged
                         (default ${DEFAULT_FLOOR_NS / 1e6}ms; lower shows more, costs more)
      --slow TIME        also an anomaly: any syscall slower than TIME (default: off)
      --threshold SIGMA  anomaly: more than SIGMA standard deviations above the mean of
                         its syscall (default ${DEFAULT_THRESHOLD_SIGMA.toFixed(1)})
      --redis URL        also send the summary, the anomalies and per-second counts to
                         Redis (logs:app:<name>:trace, status; wrapp:<name>:syscalls)
      --redis-password-file FILE  Redis password (else the URL's, else $WRAPP_REDIS_PASSWORD)
      --name NAME        service name in the Redis keys (default: APP)
      --bpftrace PATH    bpftrace binary (default: $WRAPP_BPFTRACE, else bpftrace in PATH)
      --debug            debug lines on stderr (also WRAPP_DEBUG=1)
  -h, --help             show this help

A progress bar on stderr shows the elapsed time (a line every 5 s when stderr is not a
terminal). Ctrl-C stops the load and the application cleanly and still writes every
file; a second Ctrl-C stops them at once. Nothing wrapp started is left running. Under
sudo, the files belong to the user who ran sudo.

Examples:
  wrapp record --list
  sudo wrapp record redis
  sudo wrapp record nginx --duration 30s --out /tmp/traces
  sudo wrapp record postgresql -d 1m --redis redis://127.0.0.1:6379
  sudo wrapp record --custom "./my-server --port 8080" --duration 20s

Exit codes: 0 when recorded (also after Ctrl-C); with --custom, the command's own
exit code when it ended by itself; 1 when the application or the load failed (the
files are still written, and say why); 2 for a bad command line; 69 when bpftrace,
tracefs or a tracepoint is missing; 77 without root; 127 when a program is not
installed (the message names its Debian package).`;

/** What {@linkcode recordCommand} needs from the CLI. */
export interface RecordCommandContext {
  /** Print to stdout (the report, the list). */
  print(text: string): void;
  /** Debug logger (WRAPP_DEBUG). */
  debug: (message: string) => void;
  /** One line on stderr. Default: `Deno.stderr`. */
  notice?: (text: string) => void;
}

/** Parsed `wrapp record` command line. */
export interface RecordArgs {
  help: boolean;
  list: boolean;
  /** A built-in workload's name. */
  workload?: string;
  /** `--custom`, split into words. */
  custom?: string[];
  /** ms; 0 with --custom: until the command exits. */
  durationMs: number;
  out: string;
  floorNs?: number;
  slowNs?: number;
  thresholdSigma: number;
  redis?: string;
  redisPasswordFile?: string;
  name?: string;
  bpftrace?: string;
  debug: boolean;
}

const _OPTIONS = {
  list: { type: "boolean", short: "l" },
  custom: { type: "string" },
  duration: { type: "string", short: "d" },
  out: { type: "string", short: "o" },
  floor: { type: "string" },
  slow: { type: "string" },
  threshold: { type: "string" },
  redis: { type: "string" },
  "redis-password-file": { type: "string" },
  name: { type: "string" },
  bpftrace: { type: "string" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parse `wrapp record` arguments; throws a {@linkcode UsageError} on anything wrong. */
export function parseRecordArgs(args: readonly string[]): RecordArgs {
  const { values, positionals } = parseFlags("record", args, _OPTIONS, Infinity);
  const parsed: RecordArgs = {
    help: values.help === true,
    list: values.list === true,
    durationMs: DEFAULT_RECORD_DURATION_MS,
    out: values.out ?? DEFAULT_RECORD_DIR,
    thresholdSigma: DEFAULT_THRESHOLD_SIGMA,
    debug: values.debug === true,
    ...(values.redis === undefined ? {} : { redis: values.redis }),
    ...(values["redis-password-file"] === undefined
      ? {}
      : { redisPasswordFile: values["redis-password-file"] }),
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.bpftrace === undefined ? {} : { bpftrace: values.bpftrace }),
  };
  if (parsed.help || parsed.list) return parsed;
  if (values.custom !== undefined) {
    if (positionals.length > 0) {
      throw new UsageError(
        `Give either a workload or --custom to "wrapp record", not both (got "${
          positionals[0]
        }" and --custom)`,
      );
    }
    parsed.custom = splitShellWords(values.custom);
  } else {
    if (positionals.length === 0) {
      throw new UsageError(
        `Nothing to record: usage "wrapp record APP" (${_NAMES}) or "wrapp record --custom \\"COMMAND ARGS\\"" (see "wrapp record --list")`,
      );
    }
    if (positionals.length > 1) {
      throw new UsageError(
        `Too many arguments for "wrapp record": ${
          positionals.slice(1).map((p) => `"${p}"`).join(", ")
        } (to record a command with arguments, use --custom "COMMAND ARGS")`,
      );
    }
    parsed.workload = resolveWorkloadName(positionals[0]);
  }
  if (values.duration !== undefined) {
    const ns = parseDurationNs(values.duration);
    const minimum = parsed.custom ? 0 : 1e9;
    if (ns === undefined) {
      throw new UsageError(
        `Invalid --duration "${values.duration}": expected a duration such as 10s, 1m or 1m30s`,
      );
    }
    if (ns < minimum || (parsed.custom && ns > 0 && ns < 1e6)) {
      throw new UsageError(
        `Invalid --duration "${values.duration}": must be at least ${
          parsed.custom ? "1ms (or 0: until the command exits)" : "1s"
        }`,
      );
    }
    parsed.durationMs = Math.round(ns / 1e6);
  }
  parsed.floorNs = parseDurationFlag("--floor", values.floor, 1000);
  parsed.slowNs = parseDurationFlag("--slow", values.slow, 1);
  parsed.thresholdSigma = parseThresholdFlag(values.threshold) ?? parsed.thresholdSigma;
  const name = parsed.name ?? parsed.workload;
  if (parsed.name !== undefined && !STREAM_NAME_PATTERN.test(parsed.name)) {
    throw new UsageError(`Invalid --name "${name}": use letters, digits, "_", "." and "-"`);
  }
  return parsed;
}

/** The workload a name on the command line means; a {@linkcode UsageError} with a suggestion when none. */
export function resolveWorkloadName(name: string): string {
  const lower = name.toLowerCase();
  if (Object.hasOwn(WORKLOADS, lower)) return lower;
  if (Object.hasOwn(WORKLOAD_ALIASES, lower)) return WORKLOAD_ALIASES[lower];
  const suggestion = didYouMean(lower, [
    ...Object.keys(WORKLOADS),
    ...Object.keys(WORKLOAD_ALIASES),
  ]);
  const resolved = suggestion ? WORKLOAD_ALIASES[suggestion] ?? suggestion : undefined;
  throw new UsageError(
    `Unknown workload "${name}"${
      resolved ? ` (did you mean "${resolved}"?)` : ""
    }: the workloads are ${_NAMES}; any other command is --custom "COMMAND ARGS"`,
  );
}

/**
 * Run `wrapp record ARGS…`; resolves to the exit code. Throws {@linkcode UsageError}
 * (2), `SpawnError` (127, a program is missing), `PrivilegeError` (77), `SidecarError`
 * (69), or, after the files are written and the report printed, the error that ended
 * the recording (1).
 */
export async function recordCommand(
  args: readonly string[],
  context: RecordCommandContext,
): Promise<number> {
  const options = parseRecordArgs(args);
  if (options.help) {
    context.print(RECORD_HELP);
    return 0;
  }
  if (options.list) {
    context.print(await describeWorkloads());
    return 0;
  }
  const debug: DebugLog = options.debug ? stderrDebug() : context.debug;
  const notice = context.notice ?? stderrNotice;

  // What is missing is said before anything starts: the programs, then root and bpftrace.
  let app: string;
  let programs: Record<string, string> = {};
  let plan;
  if (options.custom) {
    const custom = await customPlan(options.custom);
    app = customAppName(options.custom[0]);
    plan = () => Promise.resolve(custom);
  } else {
    const workload = WORKLOADS[options.workload!];
    app = workload.name;
    programs = await requirePrograms(app, workload.needs);
    plan = workload.plan;
  }
  const bpftrace = await requireSyscallTracing({ bpftrace: options.bpftrace, debug });

  const result = await recordApplication({
    app,
    plan,
    programs,
    durationMs: options.custom && options.durationMs === 0 ? undefined : options.durationMs,
    outDir: options.out,
    bpftrace,
    floorNs: options.floorNs,
    anomaly: { thresholdSigma: options.thresholdSigma, slowNs: options.slowNs },
    ...(options.redis === undefined ? {} : {
      redis: {
        url: options.redis,
        passwordFile: options.redisPasswordFile,
        name: options.name ?? app,
      },
    }),
    notice,
    debug,
  });
  context.print(formatRecordReport(result, options.out));
  if (result.error) throw result.error;
  return result.exitCode;
}

/** What `wrapp record` prints at the end: figures, then where the files are. */
export function formatRecordReport(result: RecordResult, outDir: string): string {
  const m = result.metadata;
  const lines = [
    `wrapp record ${m.app}: ${m.duration_s.toFixed(1)} s, ${m.syscalls} syscalls by ${m.threads} ${
      m.threads === 1 ? "thread" : "threads"
    } in ${m.processes} ${m.processes === 1 ? "process" : "processes"}, ${m.anomalies} ${
      m.anomalies === 1 ? "anomaly" : "anomalies"
    }${m.lost_events > 0 ? `, ${m.lost_events} events lost` : ""}`,
  ];
  for (const line of result.results) lines.push(`  ${line}`);
  const dir = join(outDir, result.name);
  lines.push(
    `${dir}/`,
    `  trace.json     open in https://ui.perfetto.dev`,
    `  summary.txt    syscall table per thread, top anomalies`,
    `  metadata.json  versions, times, counts, exit status`,
  );
  return lines.join("\n");
}
