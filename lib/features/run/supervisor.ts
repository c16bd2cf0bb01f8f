/**
 * `wrapp run`: start the service, frame its output into events, forward signals,
 * restart it by policy, and report every start and end to every sink.
 *
 * One run (start to exit) is a {@linkcode ServiceRun}; what the runs share is set up
 * here, once per `wrapp run`.
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import { now, type StatusEvent } from "../../core/event.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { type ExitStatus, listenForForwardedSignals, STOP_SIGNALS } from "../../core/signals.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import { HeapTrimmer } from "../../core/heap_trimmer.ts";
import type { Router } from "../../pipeline/router.ts";
import { newRunId } from "../../pipeline/tef/run_dir.ts";
import { type ByteWriter, Echo, type EchoDrops, isDevNull } from "./echo.ts";
import { LinePrefixWriter } from "./line_prefix_writer.ts";
import { RestartPolicy } from "./restart_policy.ts";
// Loaded when needed (a crash, [debug], the crash watcher, the local trace): what a run
// imports statically it pays for at every start and keeps in memory all day.
import type { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import type { LastExit, ServiceSnapshot } from "./service_snapshot.ts";
import type { HangAlarm, ServiceWatchdog } from "./watchdog/service_watchdog.ts";
import type { SupervisionContext } from "./supervision_context.ts";
import { ServiceRun } from "./service_run.ts";
import { prepareRuns, type RunOutcome, type RunSetup } from "./run_setup.ts";
import { startCrashWatcher, wantsCrashWatcher } from "./crash_capture.ts";
import { startControl } from "./control_commands.ts";
import { discardSpawned, type SpawnedRun } from "./spawn_run.ts";
import { superviseRuns } from "./restart_loop.ts";
import type { RunResult, RunServiceOptions, SupervisorOptions } from "./supervisor_options.ts";

export type { RunResult, RunServiceOptions, SupervisorOptions } from "./supervisor_options.ts";

/**
 * Supervise the configured service until it exits for good; every sink is flushed before this resolves.
 *
 * @example Running a service from its config
 * ```ts
 * import { loadConfig, runService } from "@wrapp/wrapp";
 *
 * const result = await runService(await loadConfig("examples/hello.toml"));
 * console.log(result.exitCode, result.tracePath);
 * ```
 */
export function runService(config: Config, options: RunServiceOptions = {}): Promise<RunResult> {
  return new Supervisor(config, options).run();
}

/** One supervised service: its sinks, its current run, its restart state. */
export class Supervisor {
  readonly #config: Config;
  readonly #options: SupervisorOptions;
  readonly #debug: DebugLog;
  readonly #context: SupervisionContext;
  // Echo and notices never wait for their reader (see Echo); they live across restarts so
  // the output of consecutive runs stays in order.
  readonly #echoTargets: ByteWriter[];
  readonly #stdoutEcho: Echo;
  readonly #stderrEcho: Echo;
  readonly runId: string = newRunId();
  #router: Router | undefined;
  // The crash watcher this supervisor started itself (not a group's).
  #ownCrashWatcher: Promise<EbpfCrashWatcher> | undefined;
  readonly #trimmer: HeapTrimmer;
  #run: ServiceRun | undefined;
  #firstSpawned: SpawnedRun | undefined; // held while the sinks open (spawnHeldEarly)
  // The pid of the latest run: lines the router delivers after the child exited are still its.
  #lastPid = 0;
  #stopping = false;
  #restartRequested = false;
  #wake: (() => void) | undefined;
  #restarts = 0;
  #finishing = false;
  #stopListening = () => {};
  // For `wrapp ps` (snapshot()): read only when asked, kept on paths that run anyway.
  #lastExit: LastExit | undefined;
  #linesBefore = 0;
  #ended = false;
  #watchdog: ServiceWatchdog | undefined;

  /** A supervisor for `config`. Nothing starts before {@linkcode Supervisor.run}. */
  constructor(config: Config, options: SupervisorOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#trimmer = options.heapTrimmer ?? new HeapTrimmer();
    this.#debug = options.debug ?? silentDebug;
    // Services sharing one journal: every echoed line and notice names its service.
    const prefixed = (target: ByteWriter) =>
      options.echoPrefix ? new LinePrefixWriter(target, options.echoPrefix) : target;
    this.#echoTargets = [
      prefixed(options.stdout ?? Deno.stdout),
      prefixed(options.stderr ?? Deno.stderr),
    ];
    // wrapp's own output to /dev/null (a bench, `> /dev/null`): no write per chunk.
    this.#stdoutEcho = new Echo(this.#echoTargets[0], {
      onFirstDrop: () => this.#echoFallsBehind("stdout"),
      discard: options.stdout === undefined && isDevNull("/proc/self/fd/1"),
    });
    this.#stderrEcho = new Echo(this.#echoTargets[1], {
      onFirstDrop: () => this.#echoFallsBehind("stderr"),
      discard: options.stderr === undefined && isDevNull("/proc/self/fd/2"),
    });
    this.#context = {
      config,
      runId: this.runId,
      debug: this.#debug,
      status: (phase, message, fields, time) => this.#status(phase, message, fields, time),
      emit: (event) => this.#router?.emit(event),
      notice: (text) => this.#notice(text),
      stderrLine: (text) => this.#stderrEcho.write(new TextEncoder().encode(`${text}\n`)),
    };
  }

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.#run?.child?.pid;
  }

  /** How many times the service was restarted so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The service as `wrapp ps` shows it: state, pid, current run, restarts, last exit, lines. */
  snapshot(): ServiceSnapshot {
    const run = this.#run;
    // The child until its output is read; the run is over from its exit.
    const child = run?.exited ? undefined : run?.child;
    const lines = this.#linesBefore + (run?.lines ?? 0);
    const state = this.#ended
      ? "exited"
      : child
      ? (this.#stopping || this.#restartRequested || run?.stopping ? "stopping" : "running")
      : this.#lastExit
      ? "restarting"
      : "starting";
    return {
      name: this.#config.app.streamName,
      config: this.#config.file,
      state,
      ...(child ? { pid: child.pid, startedAt: Math.round(run?.startedAt ?? 0) } : {}),
      restarts: this.#restarts,
      ...(this.#lastExit
        ? { lastExit: { ...this.#lastExit, at: Math.round(this.#lastExit.at) } }
        : {}),
      lines,
      ...(this.statusText !== undefined ? { status: this.statusText } : {}),
    };
  }

  /** The last `STATUS=` the service sent through its notify socket (`[watchdog]`), if any. */
  get statusText(): string | undefined {
    return this.#watchdog?.statusText;
  }

  /** Run the service, restarting it by policy, until it ends for good or is stopped. */
  async run(): Promise<RunResult> {
    try {
      return await this.#supervise();
    } finally {
      // The first child, spawned early, when no run took it (stopped or failed before).
      if (this.#firstSpawned) await discardSpawned(this.#firstSpawned);
      this.#stopListening();
      // #supervise stops it; this is for a start that failed before its loop (idempotent).
      await this.#ownCrashWatcher?.then((watcher) => watcher.stop(), () => {});
      if (!this.#options.heapTrimmer) this.#trimmer.close();
      // Also when it failed: the notices queued so far are written before wrapp exits
      // (unless the reader of stderr is stuck).
      const flushMs = this.#options.echoFlushMs ?? 2000;
      await this.#stdoutEcho.close(flushMs);
      const drops = await this.#stderrEcho.close(flushMs);
      if (drops.chunks > 0) this.#debug(`stderr echo: ${JSON.stringify(drops)}`);
      // A last line without its newline, held back to be prefixed whole.
      for (const target of this.#echoTargets) {
        if (target instanceof LinePrefixWriter) await target.flush();
      }
    }
  }

  async #supervise(): Promise<RunResult> {
    // One watcher for every run, so a restart waits for no program to load: it watches each
    // start of the service when wrapp resumes it (root only; otherwise it only says why not).
    // Started first: its code (30–40 ms of module loading) and programs (10–30 ms) load
    // while the sinks open, not while the service is held before its exec. run() stops it
    // also when what follows throws.
    const crashWatcher = wantsCrashWatcher(this.#context)
      ? this.#options.crashWatcher ?? (this.#ownCrashWatcher = startCrashWatcher(this.#context))
      : undefined;
    this.#ownCrashWatcher?.catch(() => {}); // a failure is reported where it is awaited
    // From before the first child is spawned (held, see spawnHeldEarly): a SIGTERM while
    // the sinks open stops wrapp before the first start and ends that child. Until run()
    // has closed the sinks: a second SIGTERM must not kill wrapp during the last delivery.
    if (this.#options.handleSignals !== false) {
      this.#stopListening = listenForForwardedSignals((signal) => this.forward(signal));
    }
    const { setup, pipeline, first } = await prepareRuns(this.#context, {
      crashWatcher,
      echoes: [this.#stdoutEcho, this.#stderrEcho],
      extraSinks: this.#options.extraSinks,
      redisPool: this.#options.redisPool,
      lastPid: () => this.#lastPid,
      drainMs: this.#options.drainMs ?? 2000,
      onHang: (alarm) => void this.#onHang(alarm),
      onWatchdog: (watchdog) => this.#watchdog = watchdog,
      onRouter: (router) => this.#router = router,
      signal: (signal) => void this.signal(signal),
      onDeliver: () => this.#trimmer.touch(),
    });
    this.#firstSpawned = first;
    const { markers } = setup;
    const control = await startControl(this.#context, this);
    let outcome: { exit: ExitStatus; exitCode: number } = { exit: { code: 0 }, exitCode: 0 };
    try {
      outcome = await superviseRuns(this.#context, {
        policy: new RestartPolicy(this.#config.restart),
        runOnce: () => this.#runOnce(setup),
        stopping: () => this.#stopping,
        takeRestartRequest: () => {
          const requested = this.#restartRequested;
          this.#restartRequested = false;
          return requested;
        },
        restarts: () => this.#restarts,
        announceRestart: (reason, delayMs, attempt, restartAt) =>
          this.#announceRestart(reason, delayMs, attempt, restartAt),
        sleep: (ms) => this.#sleep(ms),
      });
    } finally {
      this.#ended = true;
      this.#finishing = true; // a signal now is answered after the last delivery
      const flushMs = this.#options.echoFlushMs ?? 2000;
      this.#reportEchoDrops("stdout", await this.#stdoutEcho.close(flushMs));
      this.#reportEchoDrops("stderr", this.#stderrEcho.drops);
      if (markers?.forgotten) {
        this.#status("info", `${markers.forgotten} marker totals were forgotten to bound memory`, {
          run: this.runId,
          forgotten_marker_totals: markers.forgotten,
        });
      }
      await control?.close();
      await setup.watchdog?.close();
      if (!this.#options.crashWatcher) await (await crashWatcher)?.stop();
      await pipeline.router.close();
      for (const [name, stats] of Object.entries(pipeline.router.stats())) {
        this.#debug(`sink ${name}: ${JSON.stringify(stats)}`);
      }
    }
    const { traceSink } = pipeline;
    if (traceSink) await this.#notice(`trace written to ${traceSink.tracePath}`);
    return {
      exitCode: outcome.exitCode,
      status: outcome.exit,
      runId: this.runId,
      restarts: this.#restarts,
      tracePath: traceSink?.tracePath,
    };
  }

  /** One run: started, supervised to its end, its lines counted. */
  async #runOnce(setup: RunSetup): Promise<RunOutcome> {
    const run = this.#run = new ServiceRun(this.#context, setup);
    const spawned = this.#firstSpawned; // the first run's, once
    this.#firstSpawned = undefined;
    try {
      return await run.run(this.#restarts, {
        onStart: (pid) => {
          this.#lastPid = pid;
          this.#trimmer.touch(); // what starting a run allocated is free once it runs
        },
        onExit: (exit) => this.#lastExit = exit,
      }, spawned);
    } finally {
      run.cancelKill(); // a run that threw may have armed it
      this.#linesBefore += run.lines;
      this.#run = undefined;
    }
  }

  /** Stop for good: forward `signal` (default SIGTERM) to the service, SIGKILL after the grace period, no restart. */
  stop(signal: Deno.Signal = "SIGTERM"): void {
    this.#stopping = true;
    this.#watchdog?.halt();
    this.#wake?.();
    this.signal(signal);
  }

  /** Restart now: stop the current child like {@linkcode Supervisor.stop}, then start it again without backoff. */
  restart(): void {
    if (this.#stopping) return;
    if (this.#run?.child) {
      this.#restartRequested = true;
      this.signal("SIGTERM");
    } else {
      this.#wake?.(); // waiting out a backoff: start now
    }
  }

  /** Send `signal` to the service's process group; SIGTERM/SIGINT arm the SIGKILL timer. */
  signal(signal: Deno.Signal): boolean {
    return this.#run?.signal(signal) ?? false;
  }

  /** The watchdog fired: the current run takes the backtraces and is stopped. */
  async #onHang(alarm: HangAlarm): Promise<void> {
    if (this.#stopping) return;
    await this.#run?.onHang(alarm);
  }

  /** `restartAt`: when the next start is due (ms since the epoch, the exit time plus the delay). */
  #announceRestart(reason: string, delayMs: number, attempt: number, restartAt: number): void {
    this.#restarts = attempt;
    const { streamName } = this.#config.app;
    const message = `restarting ${streamName} in ${delayMs} ms (attempt ${attempt}): ${reason}`;
    this.#debug(message);
    this.#status("restart", message, {
      run: this.runId,
      attempt,
      delay_ms: delayMs,
      restart_at_ms: Math.round(restartAt),
      reason,
    });
  }

  /**
   * What wrapp does when it receives `signal`: SIGTERM and SIGINT stop the service for
   * good ({@linkcode Supervisor.stop}), the others are passed on; a status event says so.
   */
  forward(signal: Deno.Signal): void {
    if (this.#finishing) {
      this.#debug(`received ${signal} while delivering the last events: exiting after them`);
      return;
    }
    const pid = this.pid;
    this.#debug(`received ${signal}`);
    this.#status("info", `forwarded ${signal} to ${this.#config.app.streamName} (pid ${pid})`, {
      run: this.runId,
      signal,
      ...(pid === undefined ? {} : { pid }),
    });
    if (STOP_SIGNALS.includes(signal)) this.stop(signal);
    else this.signal(signal);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // The restart delay may be longer than setTimeout can wait.
      const timer: LongTimer = setLongTimeout(done, ms);
      function done() {
        timer.clear();
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  #status(
    phase: StatusEvent["phase"],
    message: string,
    fields: StatusEvent["fields"],
    time = now(),
  ): void {
    this.#router?.emit({ kind: "status", phase, message, fields, time });
  }

  /** A line for the operator on stderr; queued like the echo, so it never waits for a stuck reader. */
  #notice(text: string): Promise<void> {
    this.#stderrEcho.write(new TextEncoder().encode(`wrapp: ${text}\n`));
    return Promise.resolve();
  }

  /** The first echoed chunk of `stream` was dropped: say so once, while it happens. */
  #echoFallsBehind(stream: "stdout" | "stderr"): void {
    const message =
      `wrapp's ${stream} is not read fast enough (a stuck pipe?): its echo of the service's output is dropped while it is behind; every sink still gets every line`;
    this.#status("warning", message, { run: this.runId, echo: stream });
    if (stream === "stdout") void this.#notice(message);
  }

  /** How much of the echo of `stream` was lost, once at the end. */
  #reportEchoDrops(stream: "stdout" | "stderr", drops: Readonly<EchoDrops>): void {
    if (drops.chunks === 0) return;
    const message =
      `the echo to wrapp's ${stream} dropped ${drops.bytes} bytes (about ${drops.lines} lines) its reader did not take; the sinks have them`;
    this.#status("warning", message, {
      run: this.runId,
      echo: stream,
      dropped_bytes: drops.bytes,
      dropped_lines: drops.lines,
      dropped_chunks: drops.chunks,
    });
    if (stream === "stdout") void this.#notice(message);
  }
}
