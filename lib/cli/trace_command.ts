/**
 * `wrapp trace`: syscall counts, errors, latency and anomalies of a process tree, through
 * the bpftrace sidecar (`bpf/syscalls.bt`), at a fraction of strace's cost.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { now } from "../core/event.ts";
import { describeCause, SinkError, UsageError } from "../core/errors.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { parseFlags, parseThresholdFlag, splitAtCommand } from "./parse_flags.ts";
import type { Sink } from "../pipeline/sinks/sink.ts";
import { TraceEventFileSink } from "../pipeline/sinks/trace_event_file.ts";
import type { RedisFlags } from "../pipeline/sinks/redis_from_flags.ts";
import { openPipeline } from "../pipeline/open_pipeline.ts";
import { STREAM_NAME_PATTERN } from "../core/config/load_config.ts";
import { newRunId } from "../pipeline/tef/run_dir.ts";
import { assertReady, preflight } from "../pipeline/bpf/preflight.ts";
import { SYSCALLS_PROGRAM } from "../pipeline/bpf/programs.ts";
import { type ExitStatus, shellExitCode } from "../core/signals.ts";
import { DEFAULT_THRESHOLD_SIGMA } from "../pipeline/syscalls/anomaly_detector.ts";
import { resolveSyscallFilter, SYSCALL_CLASSES } from "../pipeline/syscalls/syscall_classes.ts";
import { hostArch } from "../pipeline/syscalls/syscall_table.ts";
import {
  DEFAULT_FLOOR_NS,
  SyscallTracer,
  type TraceSummary,
} from "../pipeline/syscalls/syscall_tracer.ts";
import { spawnStopped, type StoppedChild } from "../pipeline/sources/spawn_stopped.ts";
import {
  describeAnomaly,
  formatAnomalies,
  formatSummaryTable,
} from "../pipeline/syscalls/summary_table.ts";
import { summaryJson } from "../pipeline/syscalls/summary_json.ts";
import { formatDurationNs, parseDurationFlag } from "../core/parse_duration.ts";
import { stderrNotice } from "./notice.ts";
import { SignalWatch } from "./signal_watch.ts";
import { describeExit } from "../core/signals.ts";
import { TracerFeed } from "../features/trace/tracer_feed.ts";
import type { TraceTuiResult } from "../features/trace/run_trace_tui.ts";
import {
  assertTerminal,
  copyOutputToFile,
  defaultLogPath,
  describeFrames,
  runDemo,
  showTraceView,
} from "../features/trace/trace_tui.ts";

const _THRESHOLD = DEFAULT_THRESHOLD_SIGMA.toFixed(1);
const _FLOOR = `${DEFAULT_FLOOR_NS / 1e6}ms`;
const _CLASSES = Object.keys(SYSCALL_CLASSES).join(", ");

/** `wrapp trace --help`. */
export const TRACE_HELP = `Usage: wrapp trace [options] --pid PID
       wrapp trace [options] [--] COMMAND [ARGS...]
       wrapp trace --demo

Trace the system calls of a process and of the processes it starts after tracing began:
count, errors by errno, and latency (total, mean, p50, p99, max) per syscall, plus
anomalies: single calls far slower than usual. It runs bpftrace with bpf/syscalls.bt,
which aggregates in the kernel, so the traced program runs at nearly full speed
(strace -c stops it at every call). Needs root, bpftrace >= 0.14 and tracefs; not BTF.

With --pid, wrapp attaches to a running process and stops when it exits or on Ctrl-C.
With a COMMAND, wrapp starts it (stdin, stdout and stderr are the terminal's), traces it
from its execve on, and exits with its exit code when it ends.

Options:
  -p, --pid PID          trace this running process (and the children it starts from now on)
  -c, --summary          print a table at the end, like strace -c: sorted by time, with
                         % time, usecs/call, p50/p99/max, calls, errors (by errno name)
      --json             print the summary as JSON for scripts (on stdout, or -o FILE)
  -o, --output FILE      write the summary (table or JSON) to FILE instead of stdout
      --filter LIST      report only these syscalls: names (openat,read) and classes
                         (${_CLASSES}); repeatable
      --duration TIME    stop tracing after TIME (e.g. 10s, 2m); a launched command keeps
                         running untraced, and wrapp waits for it
      --threshold SIGMA  a call is an anomaly when its latency is more than SIGMA standard
                         deviations above the mean of its syscall's other calls (default ${_THRESHOLD})
      --slow TIME        also an anomaly: any call slower than TIME (default: off)
      --floor TIME       calls faster than TIME are never looked at one by one, only counted
                         (default ${_FLOOR}, lowered to --slow when that is smaller); lower
                         it to catch smaller spikes, at some cost when many calls block
      --per-thread       statistics per thread instead of per process tree
      --tef FILE         also write a Perfetto trace (open it in https://ui.perfetto.dev):
                         anomalies as slices on their thread's track, syscall rate and
                         errors per second as counters
      --redis URL        also send the summary and anomalies to logs:app:<name>:trace and
                         per-second counts to wrapp:<name>:syscalls / syscall_errors (DB 2)
                         (redis://[user:pw@]host:port, rediss:// for TLS; spooled on disk
                         while Redis is down)
      --redis-password-file FILE  Redis password (else the URL's, else $WRAPP_REDIS_PASSWORD)
      --name NAME        service name in the Redis keys (default: the command's base name,
                         or pid-<N> with --pid)
      --tui              a live full-screen view instead of notices: syscall rate
                         (sparkline), top syscalls with errors, the selected syscall's
                         latency histogram, the latest anomalies. Keys: q quit, arrows
                         select, s sort, p pause, f filter by class, ? help. A launched
                         command's output goes to --log, not the screen
      --log FILE         with --tui, where a launched command's stdout and stderr go
                         (default: $TMPDIR or /tmp, wrapp-trace-<name>-<time>.log)
      --tick TIME        with --tui, how often the screen is redrawn (default 50ms; the
                         counts themselves arrive once a second)
      --fps              with --tui, show frame times in the footer and print them at exit
      --demo             the --tui view on deterministic synthetic data (100,000
                         syscalls/s): no root, no bpftrace; --duration ends the demo trace
      --bpftrace PATH    bpftrace binary (default: $WRAPP_BPFTRACE, else bpftrace in PATH)
      --debug            debug lines on stderr (also WRAPP_DEBUG=1)
  -h, --help             show this help

Times are wall-clock time inside the call (strace -c -w). Counts, errors, totals and
means are exact; p50 and p99 come from the kernel's histograms with four buckets per
power of two (within 25 %); max is exact for calls above the floor. Anomalies are
printed on stderr as they are found (within a second).

Examples:
  sudo wrapp trace --summary -- ./my-app --port 8080
  sudo wrapp trace --pid 4242 --duration 30s --summary
  sudo wrapp trace --filter file,net --slow 50ms -- ./my-app
  sudo wrapp trace --json -o summary.json --tef trace.json -- make -j4
  sudo wrapp trace --tui -- ./my-app          # its output goes to /tmp/wrapp-trace-my-app-….log
  wrapp trace --demo --fps

Exit codes: the command's own (or 128+signal) when wrapp started it; 0 after --pid;
2 for a bad command line; 69 when bpftrace, tracefs or a tracepoint is missing; 77
without root; 127 when the command cannot be started.`;

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
  const held: string[] = [];
  let screenUp = false;
  const baseNotice = context.notice ?? stderrNotice;
  const notice = (text: string) => screenUp ? held.push(text) : baseNotice(text);
  if (options.demo) {
    const result = await runDemo({
      tickMs: options.tickMs,
      fps: options.fps,
      durationMs: options.durationNs === undefined ? undefined : options.durationNs / 1e6,
    });
    if (options.fps) notice(describeFrames(result));
    return 0;
  }
  if (options.tui) assertTerminal("--tui");
  const arch = hostArch();
  const filter = options.filter.length > 0 ? resolveSyscallFilter(options.filter, arch) : undefined;
  if (options.pid !== undefined) await _checkPid(options.pid);

  const report = await preflight({
    bpftrace: options.bpftrace,
    tracepoints: SYSCALLS_PROGRAM.tracepoints,
  });
  debug(`preflight: ${JSON.stringify(report)}`);
  assertReady(report);
  const bpftrace = report.bpftrace!;

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

  let child: StoppedChild | undefined;
  let tracer: SyscallTracer | undefined;
  let tui: Promise<TraceTuiResult> | undefined;
  const closeView = new AbortController();
  let outputCopied: Promise<void> | undefined;
  // Ctrl-C reaches a launched command directly (same process group); SIGTERM and SIGHUP
  // sent to wrapp alone are passed on to it. With --pid, any of them ends the trace.
  // Under --tui the command runs in its own session (the terminal is the view's), so
  // every signal is passed on.
  const signals = new SignalWatch(undefined, (signal) => {
    if (child && (options.tui || signal !== "SIGINT")) child.kill(signal);
  });
  const logPath = options.tui && options.command
    ? options.log ?? defaultLogPath(options.command[0])
    : undefined;
  const feed = options.tui
    ? new TracerFeed({
      arch,
      pid: options.pid ?? 0,
      command: options.command?.join(" ") ?? "",
      outputPath: logPath,
      source: `bpftrace ${bpftrace.version}`,
    })
    : undefined;
  try {
    if (options.command) {
      child = await spawnStopped(
        options.command[0],
        options.command.slice(1),
        options.tui ? { detached: true, output: "piped" } : {},
      );
      debug(`launched "${child.executable}" as pid ${child.pid}, stopped before exec`);
      if (logPath) {
        outputCopied = copyOutputToFile(logPath, [child.stdout!, child.stderr!]);
        outputCopied.catch(() => child?.kill("SIGKILL"));
      }
    }
    const pid = child?.pid ?? options.pid!;
    let tracerStart = now();
    try {
      tracer = await SyscallTracer.start({
        pid,
        bpftrace: bpftrace.path,
        arch,
        perThread: options.perThread,
        floorNs: options.floorNs,
        anomaly: { thresholdSigma: options.thresholdSigma, slowNs: options.slowNs },
        filter,
        debug,
        emit: (event) => {
          if (sinks.length > 0) router.emit(event);
          feed?.onEvent(event);
          if (event.kind === "anomaly" && !feed) {
            notice(`wrapp: anomaly: ${describeAnomaly(event, tracerStart)}`);
          }
        },
      });
    } catch (error) {
      child?.kill("SIGKILL");
      throw error;
    }
    tracerStart = now();
    router.emit({
      kind: "status",
      time: tracerStart,
      phase: "start",
      message: `tracing pid ${pid}`,
      fields: {
        pid,
        ...(options.command ? { command: options.command.join(" ") } : { attached: true }),
        bpftrace: bpftrace.version,
        arch,
        floor_ns: tracer.floorNs,
        threshold_sigma: options.thresholdSigma,
      },
    });
    debug(`bpftrace ${bpftrace.version} (pid ${tracer.sidecarPid}) attached to pid ${pid}`);
    if (feed) {
      await feed.attach(tracer, pid);
      screenUp = true;
      tui = showTraceView({
        feed,
        tickMs: options.tickMs,
        showFps: options.fps,
        signal: closeView.signal,
      });
    }
    if (child) {
      child.resume();
    } else if (!feed) {
      notice(
        `wrapp: tracing pid ${pid} and the processes it starts; Ctrl-C stops (bpftrace ${bpftrace.version})`,
      );
    }

    // The end: the process exits, the duration passes, a signal (--pid), or bpftrace dies.
    const never = new Promise<never>(() => {});
    const ended = await Promise.race([
      child
        ? child.status.then(() => tracer!.drained()).then(() => "exit" as const)
        : tracer.rootExited.then(() => "exit" as const),
      child ? never : signals.first.then(() => "signal" as const),
      tracer.failed,
      options.durationNs === undefined ? never : new Promise<"duration">((resolve) => {
        signals.timer(() => resolve("duration"), options.durationNs! / 1e6);
      }),
      tui ? tui.then(() => "quit" as const) : never,
    ]);
    debug(`tracing ends: ${typeof ended === "string" ? ended : ended.message}`);
    if (ended instanceof Error) {
      feed?.complete(ended.message);
      if (tui) await _leaveScreen(tui, options, () => screenUp = false, held, baseNotice);
      notice(`wrapp: ${ended.message}`);
      if (child) await child.status;
      throw ended;
    }
    const summary = await tracer.stop();
    const status = child && ended === "exit" ? await child.status : undefined;
    if (tui) {
      // The view says TRACE COMPLETE and stays until q (unless q ended the trace).
      feed!.complete(
        status
          ? describeExit(status)
          : ended === "exit"
          ? "the process exited"
          : `tracing stopped (${ended})`,
      );
      await _leaveScreen(tui, options, () => screenUp = false, held, baseNotice);
      if (child && !status) {
        notice(
          `wrapp: pid ${child.pid} still runs, untraced, its output going to ${logPath}; waiting for it (Ctrl-C stops it)`,
        );
      }
    }
    router.emit({
      kind: "status",
      time: now(),
      phase: "exit",
      message: `traced ${summary.calls} syscalls of pid ${pid}`,
      fields: {
        calls: summary.calls,
        errors: summary.errors,
        anomalies: summary.anomalyCount,
        lost_events: summary.lostEvents,
        ...(status?.code !== undefined ? { exit_code: status.code } : {}),
        ...(status?.signal !== undefined ? { signal: status.signal } : {}),
      },
    });
    await router.close();
    if (tef) await tef.finish(notice);
    await _report(summary, options, context, notice, status);
    if (summary.lostEvents > 0) {
      notice(
        `wrapp: bpftrace lost ${summary.lostEvents} slow-call events (counts are unaffected); raise --floor to send fewer`,
      );
    }
    if (!child) return 0;
    // After --duration the command runs on untraced: wait for it, like without wrapp.
    const exit = status ?? await child.status;
    await outputCopied;
    return shellExitCode(exit);
  } finally {
    signals.close();
    if (tracer) await tracer.stop().catch(() => {});
    await router.close().catch(() => {});
    if (tui && screenUp) {
      // Something threw while the view was up: it must still give the terminal back.
      feed?.complete("tracing failed");
      closeView.abort();
      await _leaveScreen(tui, options, () => screenUp = false, held, baseNotice);
    }
  }
}

/**
 * Wait for the user to close the view, then print what was held back while it was up
 * and, with --fps, the frame times.
 */
async function _leaveScreen(
  tui: Promise<TraceTuiResult>,
  options: TraceArgs,
  screenDown: () => void,
  held: string[],
  notice: (text: string) => void,
): Promise<void> {
  const result = await tui.catch((error) => {
    notice(`wrapp: the view failed: ${describeCause(error)}`);
    return undefined;
  });
  screenDown();
  for (const text of held.splice(0)) notice(text);
  if (result && options.fps) notice(describeFrames(result));
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

async function _checkPid(pid: number): Promise<void> {
  if (pid === Deno.pid) throw new UsageError(`Cannot trace wrapp itself (pid ${pid})`);
  try {
    await Deno.stat(`/proc/${pid}`);
  } catch {
    throw new UsageError(`No process with pid ${pid}`);
  }
}
