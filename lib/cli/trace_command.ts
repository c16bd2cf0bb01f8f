/**
 * `wrapp trace`: syscall counts, errors, latency and anomalies of a process tree, through
 * the bpftrace sidecar (`bpf/syscalls.bt`), at a fraction of strace's cost.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { describeCause, SinkError, UsageError } from "../core/errors.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { parseFlags, parseThresholdFlag, splitAtCommand } from "./parse_flags.ts";
import type { Sink } from "../pipeline/sinks/sink.ts";
import { TraceEventFileSink } from "../pipeline/sinks/trace_event_file.ts";
import type { RedisFlags } from "../pipeline/sinks/redis_from_flags.ts";
import { openPipeline } from "../pipeline/open_pipeline.ts";
import { STREAM_NAME_PATTERN } from "../core/config/load_config.ts";
import { newRunId } from "../pipeline/tef/run_dir.ts";
import type { ExitStatus } from "../core/signals.ts";
import { DEFAULT_THRESHOLD_SIGMA } from "../pipeline/syscalls/anomaly_detector.ts";
import type { TraceSummary } from "../pipeline/syscalls/trace_summary.ts";
import { TRACE_HELP } from "./trace_help.ts";
import { formatAnomalies, formatSummaryTable } from "../pipeline/syscalls/summary_table.ts";
import { summaryJson } from "../pipeline/syscalls/summary_json.ts";
import { formatDurationNs, parseDurationFlag } from "../core/parse_duration.ts";
import { stderrNotice } from "./notice.ts";
import { SignalWatch } from "./signal_watch.ts";
import { ScreenNotices } from "../features/trace/screen_notices.ts";
import { prepareTrace, TraceSession } from "../features/trace/trace_session.ts";
import { describeFrames, runDemo } from "../features/trace/trace_tui.ts";

/** What {@linkcode traceCommand} needs from the CLI. */
export interface TraceCommandContext {
  /** Print to stdout (the summary). */
  print(text: string): void;
  /** Debug logger (the CLI's, e.g. from WRAPP_DEBUG); `--debug` turns on stderr debug lines regardless. */
  debug: (message: string) => void;
  /** Print a notice on stderr (anomalies, warnings). Default: write to `Deno.stderr`. */
  notice?: (text: string) => void;
  /**
   * More sinks that receive every event of the trace (status start/exit, `syscall`
   * intervals and total, `anomaly`), besides the `--tef` file: e.g. a Redis sink. They
   * are closed when the trace ends.
   */
  sinks?: readonly Sink[];
}

/** Parsed `wrapp trace` command line. */
export interface TraceArgs {
  help: boolean;
  pid?: number;
  command?: string[];
  summary: boolean;
  json: boolean;
  output?: string;
  filter: string[];
  durationNs?: number;
  thresholdSigma: number;
  slowNs?: number;
  floorNs?: number;
  perThread: boolean;
  tef?: string;
  /** `--redis URL`: also stream summaries and anomalies to Redis. */
  redis?: string;
  /** `--redis-password-file FILE`. */
  redisPasswordFile?: string;
  /** `--name NAME`: the service name in the Redis keys. Default: the command's base name, or `pid-<N>`. */
  name?: string;
  /** `--tui`: the full-screen view (`--demo` implies it). */
  tui: boolean;
  /** `--demo`: the view on synthetic data. */
  demo: boolean;
  /** `--log FILE`: a launched command's output under `--tui`. */
  log?: string;
  /** `--tick`, ms. Default 50. */
  tickMs: number;
  /** `--fps`. */
  fps: boolean;
  bpftrace?: string;
  debug: boolean;
}

const _OPTIONS = {
  pid: { type: "string", short: "p" },
  summary: { type: "boolean", short: "c" },
  json: { type: "boolean" },
  output: { type: "string", short: "o" },
  filter: { type: "string", multiple: true },
  duration: { type: "string" },
  threshold: { type: "string" },
  slow: { type: "string" },
  floor: { type: "string" },
  "per-thread": { type: "boolean" },
  tef: { type: "string" },
  redis: { type: "string" },
  "redis-password-file": { type: "string" },
  name: { type: "string" },
  tui: { type: "boolean" },
  log: { type: "string" },
  tick: { type: "string" },
  fps: { type: "boolean" },
  demo: { type: "boolean" },
  bpftrace: { type: "string" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parse `wrapp trace` arguments. Options come first; the command starts at `--` or at the
 * first argument that is not an option or an option's value (so `wrapp trace ls -l` works).
 * Throws a {@linkcode UsageError} on anything wrong.
 */
export function parseTraceArgs(args: readonly string[]): TraceArgs {
  const split = splitAtCommand(args, _OPTIONS);
  const { values } = parseFlags("trace", split.flags, _OPTIONS, 0);
  const command = split.command;
  const parsed: TraceArgs = {
    help: values.help === true,
    summary: values.summary === true,
    json: values.json === true,
    output: values.output,
    filter: values.filter ?? [],
    thresholdSigma: DEFAULT_THRESHOLD_SIGMA,
    perThread: values["per-thread"] === true,
    tef: values.tef,
    ...(values.redis === undefined ? {} : { redis: values.redis }),
    ...(values["redis-password-file"] === undefined
      ? {}
      : { redisPasswordFile: values["redis-password-file"] }),
    ...(values.name === undefined ? {} : { name: values.name }),
    tui: values.tui === true || values.demo === true,
    demo: values.demo === true,
    ...(values.log === undefined ? {} : { log: values.log }),
    tickMs: 50,
    fps: values.fps === true,
    bpftrace: values.bpftrace,
    debug: values.debug === true,
  };
  if (parsed.help) return parsed;
  const tick = parseDurationFlag("--tick", values.tick, 10e6);
  if (tick !== undefined) parsed.tickMs = tick / 1e6;
  for (const flag of ["log", "tick", "fps"] as const) {
    if (values[flag] !== undefined && !parsed.tui) {
      throw new UsageError(`"--${flag}" goes with "--tui"`);
    }
  }
  if (parsed.demo) {
    if (values.pid !== undefined || (command !== undefined && command.length > 0)) {
      throw new UsageError('"--demo" traces nothing real: drop --pid and the command');
    }
    parsed.durationNs = parseDurationFlag("--duration", values.duration, 1);
    return parsed;
  }
  if (values.log !== undefined && values.pid !== undefined) {
    throw new UsageError('"--log" is for a launched command\'s output: with --pid, wrapp has none');
  }
  if (values.pid !== undefined) {
    if (!/^\d+$/.test(values.pid) || Number(values.pid) <= 0) {
      throw new UsageError(`Invalid --pid "${values.pid}": expected a process id such as 4242`);
    }
    parsed.pid = Number(values.pid);
  }
  if (command !== undefined && command.length > 0) parsed.command = command;
  if (parsed.pid !== undefined && parsed.command) {
    throw new UsageError(
      `Give either --pid or a command to "wrapp trace", not both (got --pid ${parsed.pid} and "${
        parsed.command[0]
      }")`,
    );
  }
  if (parsed.pid === undefined && !parsed.command) {
    throw new UsageError(
      'Nothing to trace: usage "wrapp trace --pid PID" or "wrapp trace -- COMMAND [ARGS...]"',
    );
  }
  parsed.durationNs = parseDurationFlag("--duration", values.duration, 1);
  parsed.slowNs = parseDurationFlag("--slow", values.slow, 1);
  parsed.floorNs = parseDurationFlag("--floor", values.floor, 1000);
  parsed.thresholdSigma = parseThresholdFlag(values.threshold) ?? parsed.thresholdSigma;
  return parsed;
}

/**
 * Run `wrapp trace ARGS…`; resolves to the exit code. Throws {@linkcode UsageError} (2),
 * `PrivilegeError` (77), `SidecarError` (69), `SpawnError` (127) or `SinkError` (74).
 */
export async function traceCommand(
  args: readonly string[],
  context: TraceCommandContext,
): Promise<number> {
  const options = parseTraceArgs(args);
  if (options.help) {
    context.print(TRACE_HELP);
    return 0;
  }
  const debug: DebugLog = options.debug ? stderrDebug() : context.debug;
  // While the full-screen view is up, notices wait: they would break the screen.
  const notices = new ScreenNotices(context.notice ?? stderrNotice);
  const notice = notices.notice;
  if (options.demo) {
    const result = await runDemo({
      tickMs: options.tickMs,
      fps: options.fps,
      durationMs: options.durationNs === undefined ? undefined : options.durationNs / 1e6,
    });
    if (options.fps) notice(describeFrames(result));
    return 0;
  }
  const prerequisites = await prepareTrace({ ...options, debug });

  const tef = options.tef ? await _openTef(options.tef, options) : undefined;
  let redisFlags: RedisFlags | undefined;
  if (options.redis !== undefined) {
    const name = options.name ??
      (options.command ? basename(options.command[0]) : `pid-${options.pid}`);
    if (!STREAM_NAME_PATTERN.test(name)) {
      throw new UsageError(`Invalid --name "${name}": use letters, digits, "_", "." and "-"`);
    }
    redisFlags = {
      url: options.redis,
      passwordFile: options.redisPasswordFile,
      streamName: name,
      env: (variable) => Deno.env.get(variable),
      log: (message) => notice(`wrapp trace: ${message}`),
      debug,
    };
  }
  const { router, sinks } = await openPipeline({
    extraSinks: [...(context.sinks ?? []), ...(tef ? [tef.sink] : [])],
    redis: redisFlags && { fromFlags: redisFlags },
    debug,
  });

  const session = new TraceSession({
    ...prerequisites,
    pid: options.pid,
    command: options.command,
    perThread: options.perThread,
    floorNs: options.floorNs,
    thresholdSigma: options.thresholdSigma,
    slowNs: options.slowNs,
    durationNs: options.durationNs,
    ...(options.tui ? { tui: { tickMs: options.tickMs, fps: options.fps, log: options.log } } : {}),
    router,
    routeTraceEvents: sinks.length > 0,
    notices,
    debug,
    watchSignals: (forward) => new SignalWatch(undefined, forward),
  });
  try {
    const { summary, status } = await session.run();
    await router.close();
    if (tef) await tef.finish(notice);
    await _report(summary, options, context, notice, status);
    if (summary.lostEvents > 0) {
      notice(
        `wrapp: bpftrace lost ${summary.lostEvents} slow-call events (counts are unaffected); raise --floor to send fewer`,
      );
    }
    return await session.exitCode();
  } finally {
    await session.close();
    await router.close().catch(() => {});
  }
}

/** Print the summary the options ask for. */
async function _report(
  summary: TraceSummary,
  options: TraceArgs,
  context: TraceCommandContext,
  notice: (text: string) => void,
  status: ExitStatus | undefined,
): Promise<void> {
  let text: string;
  if (options.json) {
    text = JSON.stringify(
      summaryJson(summary, {
        command: options.command,
        exit: status,
        thresholdSigma: options.thresholdSigma,
        slowNs: options.slowNs,
      }),
      null,
      2,
    );
  } else if (options.summary) {
    text = formatSummaryTable(summary.rows, { threads: summary.threads }) + "\n" +
      formatAnomalies(summary.anomalies, {
        startTime: summary.startTime,
        total: summary.anomalyCount,
      });
  } else {
    const seconds = ((summary.endTime - summary.startTime) / 1000).toFixed(2);
    notice(
      `wrapp: ${summary.calls} syscalls (${summary.errors} failed, ${
        formatDurationNs(summary.totalNs)
      } inside calls) in ${seconds} s; ${summary.anomalyCount} ${
        summary.anomalyCount === 1 ? "anomaly" : "anomalies"
      }; --summary for the table`,
    );
    return;
  }
  if (options.output) {
    try {
      await Deno.writeTextFile(options.output, text + "\n");
    } catch (error) {
      throw new SinkError(`Cannot write "${options.output}": ${describeCause(error)}`, {
        cause: error,
      });
    }
  } else {
    context.print(text);
  }
}

/** The TEF sink writing to a private folder beside FILE; `finish` moves `trace.json` to FILE. */
async function _openTef(
  file: string,
  options: TraceArgs,
): Promise<{ sink: TraceEventFileSink; finish: (notice: (t: string) => void) => Promise<void> }> {
  let runDir: string;
  try {
    runDir = await Deno.makeTempDir({ dir: dirname(file), prefix: `.${basename(file)}.` });
  } catch (error) {
    throw new SinkError(
      `Cannot write the trace "${file}": ${describeCause(error)} (in folder "${dirname(file)}")`,
      { cause: error },
    );
  }
  const what = options.command ? basename(options.command[0]) : `pid ${options.pid}`;
  const sink = await TraceEventFileSink.open({
    runDir,
    processName: `wrapp trace ${what}`,
    pid: Deno.pid,
    runId: newRunId(),
  });
  return {
    sink,
    finish: async (notice) => {
      const problem = await sink.healthCheck();
      if (problem) notice(`wrapp: ${problem}`);
      try {
        await Deno.rename(sink.tracePath, file);
        await Deno.remove(runDir, { recursive: true });
      } catch (error) {
        throw new SinkError(
          `Cannot move the trace to "${file}": ${
            describeCause(error)
          } (the events are in "${runDir}")`,
          { cause: error },
        );
      }
    },
  };
}
