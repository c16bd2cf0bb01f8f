/**
 * One run of a supervised service: from its start to its exit, its output read to the
 * end and its process group gone. Signals to it arm the SIGKILL of `stop_grace`; the
 * eBPF views, the cgroup, the metrics and `[debug]` are set up while it is held before
 * its exec.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import { describeExit, type ExitStatus, shellExitCode, STOP_SIGNALS } from "../../core/signals.ts";
import { VERSION } from "../../core/version.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import type { RunningChild } from "../../pipeline/sources/child_process.ts";
import { waitUntilStopped } from "../../pipeline/sources/spawn_stopped.ts";
import { type SpawnedRun, spawnRun } from "./spawn_run.ts";
import { OutputPipeline, pumpOutput } from "../../pipeline/sources/output_pipeline.ts";
import type { ServiceDebug } from "./service_debug.ts";
import type { HangAlarm } from "./watchdog/service_watchdog.ts";
import type { LastExit } from "./service_snapshot.ts";
import { peakFields } from "./metrics_sampler.ts";
import { limitRun, reportOom, type RunLimit, startRunSampler } from "./run_limits.ts";
import { drainGroup, reapGroup } from "./group_drain.ts";
import { isReportedCrash, reportCrash, reportHang } from "./crash_capture.ts";
import { announceDebugSession, startDebugSession } from "./debug_hold.ts";
import { startRunSidecars } from "./run_sidecars.ts";
import type { SupervisionContext } from "./supervision_context.ts";
import type { RunOutcome, RunSetup } from "./run_setup.ts";

export type { RunOutcome, RunSetup } from "./run_setup.ts";

/** One start of the service, supervised until it ended and its output is read. */
export class ServiceRun {
  readonly #context: SupervisionContext;
  readonly #setup: RunSetup;
  #child: RunningChild | undefined;
  #released = false;
  #startedAt: number | undefined;
  #exited = false;
  #pipelines: readonly OutputPipeline[] = [];
  #killTimer: LongTimer | undefined;
  #killDeadline = 0;
  #killSent = false;
  #debugSession: ServiceDebug | undefined;
  #holdingForDebugger = false;
  #signalAfterHold: Deno.Signal | undefined;
  #hung: string | undefined;

  /** A run; nothing starts before {@linkcode ServiceRun.run}. */
  constructor(context: SupervisionContext, setup: RunSetup) {
    this.#context = context;
    this.#setup = setup;
  }

  /** The child, from its start until its output is read and its group is gone. */
  get child(): RunningChild | undefined {
    return this.#released ? undefined : this.#child;
  }

  /** When the child started, ms since the epoch. */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  /** Whether the main process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Whether a stop is under way (the SIGKILL of the grace period is armed). */
  get stopping(): boolean {
    return this.#killTimer !== undefined;
  }

  /** Lines of output framed so far. */
  get lines(): number {
    let lines = 0;
    for (const pipeline of this.#pipelines) lines += pipeline.lines;
    return lines;
  }

  /**
   * Start the child (or take `spawned`, held before its exec), supervise it until it exits
   * and its output is read, and report its end. `onStart` gets its pid, `onExit` its exit
   * as soon as it happens.
   */
  async run(
    restarts: number,
    hooks: { onStart: (pid: number) => void; onExit: (exit: LastExit) => void },
    spawned?: SpawnedRun,
  ): Promise<RunOutcome> {
    const setup = this.#setup;
    this.#hung = undefined;
    const { child, hold, command } = spawned ?? spawnRun(this.#context, setup);
    this.#child = child;
    hooks.onStart(child.pid);
    const startedAt = now();
    this.#startedAt = startedAt;
    this.#announceStart(child, command, restarts, startedAt);
    const { limited, sidecars } = await this.#prepare(child, hold, command);
    // Its deadlines count from now, when it runs (no longer held for the tracers).
    setup.watchdog?.begin(child.pid);
    // Only while it runs: stopped at its exit, started again with the next run.
    const sampling = startRunSampler(this.#context, child.pid, {
      router: setup.router,
      rssLimit: limited.rssLimit,
      stop: () => setup.signal("SIGTERM"),
    });
    const reading = this.#readOutput(child);
    const exit = await child.status;
    const endedAt = now();
    this.#exited = true;
    hooks.onExit({
      ...(exit.signal !== undefined ? { signal: exit.signal } : { code: exit.code ?? 0 }),
      at: endedAt,
    });
    setup.watchdog?.end();
    const peaks = sampling.sampler?.stop();
    const limitFields = reportOom(this.#context, limited.cgroup, exit, peaks?.rssBytes) ??
      (sampling.overLimit ? { limit_exceeded: "memory_max" } : {});
    await this.#debugSession?.stop(); // gdbserver goes with the service
    this.#debugSession = undefined;
    await sidecars.stop(exit);
    this.#context.debug(`pid ${child.pid} ended with ${describeExit(exit)}`);
    await this.#endGroup(child, reading, limited);
    const hung = this.#hung;
    this.#reportExit(child, exit, { startedAt, endedAt, hung }, {
      ...(peaks && this.#context.config.metrics.enabled ? peakFields(peaks) : {}),
      ...limitFields,
    });
    if (await isReportedCrash(this.#context, exit.signal)) {
      // Right away: the core is found by the pattern and limits in force at the crash.
      await reportCrash(
        this.#context,
        { pid: child.pid, signal: exit.signal!, startedAt, endedAt },
        {
          userSwitch: setup.userSwitch,
          corePlan: setup.corePlan,
          watcher: await setup.crashWatcher,
        },
      );
    }
    return { exit, endedAt, hung };
  }

  /** Send `signal` to the run's process group; SIGTERM/SIGINT arm the SIGKILL timer. */
  signal(signal: Deno.Signal): boolean {
    const child = this.child;
    if (!child) return false;
    const { debug } = this.#context;
    if (this.#holdingForDebugger) {
      // gdbserver is taking it through its exec: a signal now would stop it for that
      // tracer and be lost. It goes once the session is set up.
      this.#signalAfterHold = signal;
      debug(`${signal} waits until gdbserver holds pid ${child.pid}`);
      return true;
    }
    // Stopping it is no hang.
    if (STOP_SIGNALS.includes(signal)) this.#setup.watchdog?.halt();
    // Queued while the service is held: it acts on it as soon as gdbserver lets it go.
    const delivered = child.signalGroup(signal);
    debug(`sent ${signal} to process group ${child.pid}: ${delivered}`);
    const detached = this.#debugSession?.beforeSignal(signal);
    if (detached) {
      // A stop its dying tracer took would be lost with it: send it again once it is gone.
      void detached.then(() => child.signalGroup(signal));
    }
    if (delivered && STOP_SIGNALS.includes(signal) && this.#killTimer === undefined) {
      const graceMs = this.#context.config.app.stopGraceMs;
      this.#killDeadline = performance.now() + graceMs;
      this.#killSent = false;
      this.#killTimer = setLongTimeout(() => this.#killGroup(child), graceMs);
    }
    return delivered;
  }

  /**
   * The watchdog fired for this run: take its backtraces (see {@linkcode reportHang}),
   * then stop it like a stop (SIGTERM, SIGKILL after stop_grace) so `[restart]` decides
   * what comes next.
   */
  async onHang(alarm: HangAlarm): Promise<void> {
    const child = this.child;
    if (!child || child.pid !== alarm.pid) return;
    await reportHang(this.#context, alarm, {
      statusText: () => this.#setup.watchdog?.statusText,
      onDetail: (detail) => this.#hung = detail,
    });
    if (this.#released) return; // it ended meanwhile
    this.#setup.signal("SIGTERM");
    child.signalGroup("SIGCONT"); // a stopped process acts on SIGTERM only once it runs
  }

  /** No SIGKILL comes any more: the run is over (or threw). */
  cancelKill(): void {
    this.#killTimer?.clear();
  }

  #announceStart(
    child: RunningChild,
    command: readonly string[],
    restarts: number,
    startedAt: number,
  ): void {
    const { app } = this.#context.config;
    this.#context.debug(`started pid ${child.pid}`);
    this.#context.status("start", `started ${app.streamName} (pid ${child.pid})`, {
      run: this.#context.runId,
      pid: child.pid,
      command: command.join(" "),
      user: this.#setup.runUser,
      host: Deno.hostname(),
      version: VERSION,
      cwd: app.cwd,
      restarts,
    }, startedAt); // the run's slice starts when the run did, so start + duration is its exit
  }

  /**
   * While it is held: put it in its cgroup, start the sidecars and the crash watcher's
   * watch, then let it go (or hand it to gdbserver).
   */
  async #prepare(
    child: RunningChild,
    hold: boolean,
    command: readonly string[],
  ): Promise<{ limited: RunLimit; sidecars: Awaited<ReturnType<typeof startRunSidecars>> }> {
    const setup = this.#setup;
    let stopped: true | string = "was not held";
    if (hold) {
      let exited = false;
      void child.status.then(() => exited = true);
      stopped = await waitUntilStopped(child.pid, () => exited, 10_000);
    }
    const held = stopped === true;
    // Unheld (wrapp is traced), it goes into its cgroup as it runs.
    const limited = limitRun(this.#context, child.pid, held || !hold, setup.limits);
    const sidecars = startRunSidecars(this.#context, child.pid, {
      router: setup.router,
      command: command.join(" "),
    });
    if (!hold) {
      // Not held (wrapp is traced, see spawnRun): watched from now on, maps read as it runs.
      const watcher = await setup.crashWatcher;
      watcher?.watch(child.pid, { running: true });
      if (watcher) this.#context.debug(`pid ${child.pid} not held: watched as it runs`);
    } else {
      // The crash watcher must be running by then: it watches the pid from here (bpftrace
      // adopts it at the SIGCONT).
      const [watcher] = await Promise.all([setup.crashWatcher, sidecars.started()]);
      watcher?.watch(child.pid);
      if (held && setup.gdbserver) {
        this.#debugSession = await this.#holdForDebugger(child, setup.gdbserver);
      } else {
        this.#context.debug(
          held ? `attached; resuming pid ${child.pid}` : `the service ${stopped}`,
        );
        child.signalGroup("SIGCONT");
      }
    }
    return { limited, sidecars };
  }

  #readOutput(child: RunningChild): { pumps: Promise<unknown>; stop: AbortController } {
    const { router, watchdog, markers, echoes } = this.#setup;
    const { output } = this.#context.config;
    const onLines = watchdog && (() => watchdog.sawOutput());
    const pipelines = (["stdout", "stderr"] as const).map((stream) =>
      new OutputPipeline(stream, { output, target: router, markers, onLines })
    );
    this.#pipelines = pipelines;
    const stop = new AbortController();
    const backpressure = () => router.waitForCapacity();
    const pumps = Promise.all(
      [child.stdout, child.stderr].map((readable, i) =>
        pumpOutput(readable, pipelines[i], { echo: echoes[i], stop: stop.signal, backpressure })
      ),
    );
    return { pumps, stop };
  }

  /** After the exit: reap and drain the group, release the child, remove the cgroup. */
  async #endGroup(
    child: RunningChild,
    reading: { pumps: Promise<unknown>; stop: AbortController },
    limited: RunLimit,
  ): Promise<void> {
    const { debug } = this.#context;
    if (this.#killTimer !== undefined) {
      await reapGroup(child, {
        deadline: this.#killDeadline,
        kill: () => this.#killGroup(child),
        debug,
      });
    }
    await drainGroup(this.#context, child, reading, {
      drainMs: this.#setup.drainMs,
      beforeSignal: (signal) => this.#debugSession?.beforeSignal(signal),
    });
    this.#killTimer?.clear();
    this.#killTimer = undefined;
    this.#released = true;
    const leftover = await limited.cgroup?.remove();
    if (leftover) {
      this.#context.status("warning", leftover, { run: this.#context.runId, pid: child.pid });
      void this.#context.notice(leftover);
    }
    for (const echo of this.#setup.echoes) {
      if (echo?.broken) debug(`echo stopped: ${echo.broken}`);
    }
  }

  #reportExit(
    child: RunningChild,
    exit: ExitStatus,
    times: { startedAt: number; endedAt: number; hung?: string },
    extra: Record<string, string | number>,
  ): void {
    const { app } = this.#context.config;
    const durationMs = Math.round(times.endedAt - times.startedAt);
    const [stdout, stderr] = this.#pipelines;
    this.#context.status(
      "exit",
      `${app.streamName} ended with ${describeExit(exit)} after ${durationMs} ms`,
      {
        run: this.#context.runId,
        pid: child.pid,
        ...(exit.signal !== undefined ? { signal: exit.signal } : { exit_code: exit.code ?? 0 }),
        shell_exit_code: shellExitCode(exit),
        duration_ms: durationMs,
        stdout_lines: stdout.lines,
        stderr_lines: stderr.lines,
        ...(times.hung !== undefined ? { stopped_by: "watchdog", watchdog: times.hung } : {}),
        ...extra,
      },
    );
  }

  /** The grace period is over: SIGKILL the whole group, once per stop. */
  #killGroup(child: RunningChild): void {
    if (this.#killSent) return;
    this.#killSent = true;
    const { config, debug, runId } = this.#context;
    const graceMs = config.app.stopGraceMs;
    this.#debugSession?.beforeSignal("SIGKILL"); // gdbserver goes first, or it holds the service
    if (child.signalGroup("SIGKILL")) {
      debug(`grace period of ${graceMs} ms over; sent SIGKILL to process group ${child.pid}`);
      this.#context.status(
        "warning",
        `${config.app.streamName} did not stop within ${graceMs} ms; sent SIGKILL`,
        { run: runId, pid: child.pid, grace_ms: graceMs },
      );
    }
  }

  /**
   * [debug]: take the held child to its first instruction, attach gdbserver, and tell
   * stderr and every sink how to connect. A signal sent meanwhile goes once it is held.
   */
  async #holdForDebugger(
    child: RunningChild,
    gdbserver: string,
  ): Promise<ServiceDebug | undefined> {
    let session: ServiceDebug | undefined;
    this.#holdingForDebugger = true;
    try {
      session = await startDebugSession(this.#context, child, gdbserver);
    } finally {
      this.#holdingForDebugger = false;
    }
    if (!session) return undefined; // it ended before its exec; the exit says why
    this.#debugSession = session;
    const pending = this.#signalAfterHold;
    this.#signalAfterHold = undefined;
    if (pending) this.#setup.signal(pending);
    await announceDebugSession(this.#context, child, session);
    return session;
  }
}
