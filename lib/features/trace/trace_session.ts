/**
 * One `wrapp trace` session: launch the command held before its exec (or take `--pid`),
 * attach the syscall tracer, show the `--tui` view or print anomalies as they are found,
 * wait for the end (the process exits, `--duration` passes, a signal, `q`, or bpftrace
 * dies), stop the tracer for the summary, and send `start` and `exit` status events and
 * the trace's events to the sinks. The command line parsing, the sinks and the printed
 * report are `lib/cli/trace_command.ts`'s.
 *
 * @module
 */

import { type Event, now } from "../../core/event.ts";
import { describeCause, type SidecarError, UsageError } from "../../core/errors.ts";
import type { DebugLog } from "../../core/debug.ts";
import { describeExit, type ExitStatus, shellExitCode } from "../../core/signals.ts";
import { spawnStopped, type StoppedChild } from "../../pipeline/sources/spawn_stopped.ts";
import { describeAnomaly } from "../../pipeline/syscalls/summary_table.ts";
import { resolveSyscallFilter } from "../../pipeline/syscalls/syscall_classes.ts";
import { hostArch, type SyscallArch } from "../../pipeline/syscalls/syscall_table.ts";
import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import {
  type BpftraceBinary,
  requireSyscallTracing,
  summaryStatusFields,
  SyscallSession,
} from "../../pipeline/syscalls/syscall_session.ts";
import type { ScreenNotices } from "./screen_notices.ts";
import type { TraceTuiResult } from "./run_trace_tui.ts";
import { TracerFeed } from "./tracer_feed.ts";
import {
  assertTerminal,
  copyOutputToFile,
  defaultLogPath,
  describeFrames,
  showTraceView,
} from "./trace_tui.ts";

/** The signals that end a session (the CLI's SIGINT, SIGTERM and SIGHUP). */
export interface StopSignals {
  /** Resolves on the first signal. */
  readonly first: Promise<void>;
  /** Call `callback` after `ms` (any length); cleared by `close()`. */
  timer(callback: () => void, ms: number): void;
  /** Stop watching. */
  close(): void;
}

/** What can be traced here, from {@linkcode prepareTrace}. */
export interface TracePrerequisites {
  arch: SyscallArch;
  /** Syscall numbers to report; undefined: all. */
  filter?: ReadonlySet<number>;
  bpftrace: BpftraceBinary;
}

/**
 * Check everything before anything starts: a terminal for `--tui`, the `--filter` names,
 * that `--pid` exists, then root, bpftrace and tracefs. Throws {@linkcode UsageError},
 * `PrivilegeError` or `SidecarError`.
 */
export async function prepareTrace(options: {
  tui: boolean;
  filter: readonly string[];
  pid?: number;
  bpftrace?: string;
  debug: DebugLog;
}): Promise<TracePrerequisites> {
  if (options.tui) assertTerminal("--tui");
  const arch = hostArch();
  const filter = options.filter.length > 0 ? resolveSyscallFilter(options.filter, arch) : undefined;
  if (options.pid !== undefined) await _checkPid(options.pid);
  const bpftrace = await requireSyscallTracing({
    bpftrace: options.bpftrace,
    debug: options.debug,
  });
  return { arch, filter, bpftrace };
}

/** Options for {@linkcode TraceSession}. */
export interface TraceSessionOptions extends TracePrerequisites {
  /** Attach to this process… */
  pid?: number;
  /** …or launch this command. */
  command?: string[];
  perThread: boolean;
  /** Calls at least this slow are judged one by one, ns. */
  floorNs?: number;
  thresholdSigma: number;
  slowNs?: number;
  /** Stop tracing after this long, ns. */
  durationNs?: number;
  /** `--tui`: the full-screen view; `log` is where a launched command's output goes. */
  tui?: { tickMs: number; fps: boolean; log?: string };
  /** Receives the status events, and the trace's events when `routeTraceEvents`. */
  router: { emit(event: Event): void };
  /** Whether there are sinks for the syscall and anomaly events. */
  routeTraceEvents: boolean;
  /** Notices, held while the view is up. */
  notices: ScreenNotices;
  debug: DebugLog;
  /** Start watching the signals; each is also handed to `forward`. */
  watchSignals: (forward: (signal: Deno.Signal) => void) => StopSignals;
}

/** What a session found. */
export interface TraceOutcome {
  summary: TraceSummary;
  /** How a launched command ended, when it ended while traced. */
  status?: ExitStatus;
}

/** One `wrapp trace` session; see the module documentation. */
export class TraceSession {
  readonly #options: TraceSessionOptions;
  readonly #logPath: string | undefined;
  readonly #closeView = new AbortController();
  #signals: StopSignals | undefined;
  #child: StoppedChild | undefined;
  #session: SyscallSession | undefined;
  #feed: TracerFeed | undefined;
  #view: Promise<TraceTuiResult> | undefined;
  #outputCopied: Promise<void> | undefined;
  #status: ExitStatus | undefined;
  #startTime = now();

  /** A session to {@linkcode TraceSession.run}; {@linkcode TraceSession.close} it in every case. */
  constructor(options: TraceSessionOptions) {
    this.#options = options;
    this.#logPath = options.tui && options.command
      ? options.tui.log ?? defaultLogPath(options.command[0])
      : undefined;
  }

  /**
   * Trace until the end, emitting the `start` and `exit` status events; resolves with the
   * summary. Throws `SpawnError` (the command cannot start) or the `SidecarError` of a
   * failed bpftrace (after a launched command has ended).
   */
  async run(): Promise<TraceOutcome> {
    const options = this.#options;
    // Ctrl-C reaches a launched command directly (same process group); SIGTERM and SIGHUP
    // sent to wrapp alone are passed on to it. With --pid, any of them ends the trace.
    // Under --tui the command runs in its own session (the terminal is the view's), so
    // every signal is passed on.
    this.#signals = options.watchSignals((signal) => {
      if (this.#child && (options.tui || signal !== "SIGINT")) this.#child.kill(signal);
    });
    this.#feed = options.tui
      ? new TracerFeed({
        arch: options.arch,
        pid: options.pid ?? 0,
        command: options.command?.join(" ") ?? "",
        outputPath: this.#logPath,
        source: `bpftrace ${options.bpftrace.version}`,
      })
      : undefined;
    if (options.command) await this.#launch(options.command);
    const session = await this.#attach();
    await this.#show(session);
    const ended = await this.#waitForEnd(session);
    options.debug(`tracing ends: ${typeof ended === "string" ? ended : ended.message}`);
    if (ended instanceof Error) {
      this.#feed?.complete(ended.message);
      if (this.#view) await this.#leaveScreen();
      options.notices.notice(`wrapp: ${ended.message}`);
      if (this.#child) await this.#child.status;
      throw ended;
    }
    const summary = await session.stop();
    const status = this.#child && ended === "exit" ? await this.#child.status : undefined;
    this.#status = status;
    if (this.#view) await this.#completeView(ended, status);
    options.router.emit({
      kind: "status",
      time: now(),
      phase: "exit",
      message: `traced ${summary.calls} syscalls of pid ${session.pid}`,
      fields: {
        ...summaryStatusFields(summary),
        ...(status?.code !== undefined ? { exit_code: status.code } : {}),
        ...(status?.signal !== undefined ? { signal: status.signal } : {}),
      },
    });
    return { summary, ...(status ? { status } : {}) };
  }

  /**
   * wrapp's exit code once the session ran: 0 after `--pid`; a launched command's own,
   * after waiting for it (after `--duration` it runs on untraced, like without wrapp).
   */
  async exitCode(): Promise<number> {
    if (!this.#child) return 0;
    const exit = this.#status ?? await this.#child.status;
    await this.#outputCopied;
    return shellExitCode(exit);
  }

  /** Stop watching signals, stop the tracer, and give the terminal back if the view still has it. */
  async close(): Promise<void> {
    this.#signals?.close();
    await this.#session?.close();
    if (this.#view && this.#options.notices.up) {
      // Something threw while the view was up: it must still give the terminal back.
      this.#feed?.complete("tracing failed");
      this.#closeView.abort();
      await this.#leaveScreen();
    }
  }

  /** Start the command held before its exec; under --tui its output goes to the log. */
  async #launch(command: string[]): Promise<void> {
    const child = await spawnStopped(
      command[0],
      command.slice(1),
      this.#options.tui ? { detached: true, output: "piped" } : {},
    );
    this.#child = child;
    this.#options.debug(
      `launched "${child.executable}" as pid ${child.pid}, stopped before exec`,
    );
    if (this.#logPath) {
      this.#outputCopied = copyOutputToFile(this.#logPath, [child.stdout!, child.stderr!]);
      this.#outputCopied.catch(() => child.kill("SIGKILL"));
    }
  }

  /** Start the tracer on the process and send the `start` status event. */
  async #attach(): Promise<SyscallSession> {
    const options = this.#options;
    const pid = this.#child?.pid ?? options.pid!;
    const routed = options.routeTraceEvents;
    this.#startTime = now();
    const session = await SyscallSession.start({
      pid,
      bpftrace: options.bpftrace,
      arch: options.arch,
      perThread: options.perThread,
      floorNs: options.floorNs,
      anomaly: { thresholdSigma: options.thresholdSigma, slowNs: options.slowNs },
      filter: options.filter,
      debug: options.debug,
      held: this.#child,
      emit: (event) => {
        if (routed) options.router.emit(event);
        this.#feed?.onEvent(event);
        if (event.kind === "anomaly" && !this.#feed) {
          options.notices.notice(`wrapp: anomaly: ${describeAnomaly(event, this.#startTime)}`);
        }
      },
    });
    this.#session = session;
    this.#startTime = now();
    options.router.emit({
      kind: "status",
      time: this.#startTime,
      phase: "start",
      message: `tracing pid ${pid}`,
      fields: {
        pid,
        ...(options.command ? { command: options.command.join(" ") } : { attached: true }),
        bpftrace: options.bpftrace.version,
        arch: options.arch,
        floor_ns: session.floorNs,
        threshold_sigma: options.thresholdSigma,
      },
    });
    return session;
  }

  /** Put the view up (--tui), then let the launched command run. */
  async #show(session: SyscallSession): Promise<void> {
    const options = this.#options;
    if (this.#feed && options.tui) {
      await this.#feed.attach(session.tracer, session.pid);
      options.notices.screenUp();
      this.#view = showTraceView({
        feed: this.#feed,
        tickMs: options.tui.tickMs,
        showFps: options.tui.fps,
        signal: this.#closeView.signal,
      });
    }
    if (this.#child) {
      this.#child.resume();
    } else if (!this.#feed) {
      options.notices.notice(
        `wrapp: tracing pid ${session.pid} and the processes it starts; Ctrl-C stops (bpftrace ${options.bpftrace.version})`,
      );
    }
  }

  /** The end: the process exits, the duration passes, a signal (--pid), `q`, or bpftrace dies. */
  #waitForEnd(
    session: SyscallSession,
  ): Promise<"exit" | "signal" | "duration" | "quit" | SidecarError> {
    const signals = this.#signals!;
    const durationNs = this.#options.durationNs;
    const never = new Promise<never>(() => {});
    return Promise.race([
      session.ended(this.#child?.status),
      this.#child ? never : signals.first.then(() => "signal" as const),
      durationNs === undefined ? never : new Promise<"duration">((resolve) => {
        signals.timer(() => resolve("duration"), durationNs / 1e6);
      }),
      this.#view ? this.#view.then(() => "quit" as const) : never,
    ]);
  }

  /** The view says TRACE COMPLETE and stays until q (unless q ended the trace). */
  async #completeView(ended: string, status: ExitStatus | undefined): Promise<void> {
    this.#feed!.complete(
      status
        ? describeExit(status)
        : ended === "exit"
        ? "the process exited"
        : `tracing stopped (${ended})`,
    );
    await this.#leaveScreen();
    if (this.#child && !status) {
      this.#options.notices.notice(
        `wrapp: pid ${this.#child.pid} still runs, untraced, its output going to ${this.#logPath}; waiting for it (Ctrl-C stops it)`,
      );
    }
  }

  /**
   * Wait for the user to close the view, then print what was held back while it was up
   * and, with --fps, the frame times.
   */
  async #leaveScreen(): Promise<void> {
    const notices = this.#options.notices;
    const result = await this.#view!.catch((error) => {
      notices.print(`wrapp: the view failed: ${describeCause(error)}`);
      return undefined;
    });
    notices.screenDown();
    if (result && this.#options.tui?.fps) notices.print(describeFrames(result));
  }
}

async function _checkPid(pid: number): Promise<void> {
  if (pid === Deno.pid) throw new UsageError(`Cannot trace wrapp itself (pid ${pid})`);
  try {
    await Deno.stat(`/proc/${pid}`);
  } catch {
    throw new UsageError(`No process with pid ${pid}`);
  }
}
