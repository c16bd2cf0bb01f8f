/**
 * The running part of a recording, once its folder, sinks and logs exist: the setup
 * steps, the application started held before its exec and traced from it on, waiting
 * until it answers, the preparation, the measured load with its progress bar, and
 * stopping the load, the application and the tracer. How it ended (`stoppedBy`,
 * `problem`) and what ran are left for the recorder to write down.
 *
 * @module
 */

import { basename } from "node:path";
import { now } from "../../core/event.ts";
import { describeCause, SidecarError, WrappError } from "../../core/errors.ts";
import type { DebugLog } from "../../core/debug.ts";
import { describeExit, type ExitStatus } from "../../core/signals.ts";
import { formatDurationNs } from "../../core/parse_duration.ts";
import type { SyscallArch } from "../../pipeline/syscalls/syscall_table.ts";
import type { SyscallSession } from "../../pipeline/syscalls/syscall_session.ts";
import type { StoppedChild } from "../../pipeline/sources/spawn_stopped.ts";
import { type ManagedProcess, startHeld, startProcess } from "./managed_process.ts";
import type { StoppedBy } from "./metadata.ts";
import { OutputLog } from "./output_log.ts";
import { ProcessWatcher } from "./process_watcher.ts";
import { waitForExec } from "./process_tree.ts";
import { ProgressDisplay } from "./progress_bar.ts";
import type { RecordOptions } from "./record_options.ts";
import type { RecordingSinks } from "./recording_sinks.ts";
import type { RecordingStop } from "./recording_stop.ts";
import type { RecordingTrace } from "./recording_trace.ts";
import { startRecordingTracer } from "./recording_tracer.ts";
import {
  appDied,
  lastOutput,
  type Outcome,
  RecordingWaits,
  stepFailed,
  succeeded,
  until,
} from "./recording_waits.ts";
import { shellQuote } from "./shell_words.ts";
import type { RecordPlan } from "./workload.ts";

/** How long a load generator gets after its signal, and one that stops itself after its duration, ms. */
export const LOAD_GRACE_MS = 5_000;

/** What a {@linkcode RecordingRun} works with. */
export interface RecordingRunOptions {
  options: RecordOptions;
  arch: SyscallArch;
  /** The recording's own TEF events. */
  trace: RecordingTrace;
  sinks: RecordingSinks;
  stop: RecordingStop;
  /** The application's output (and the setup's). */
  appLog: OutputLog;
  /** Every log opened (the workload's goes here), closed by the recorder. */
  logs: OutputLog[];
  /** Every process started, killed by the recorder at the end at the latest. */
  started: ManagedProcess[];
  debug: DebugLog;
}

/** The running part of one recording; see the module documentation. */
export class RecordingRun {
  readonly #options: RecordOptions;
  readonly #arch: SyscallArch;
  readonly #trace: RecordingTrace;
  readonly #sinks: RecordingSinks;
  readonly #stop: RecordingStop;
  readonly #appLog: OutputLog;
  readonly #logs: OutputLog[];
  readonly #started: ManagedProcess[];
  readonly #debug: DebugLog;
  readonly #waits: RecordingWaits;
  #app: ManagedProcess | undefined;
  #child: StoppedChild | undefined;
  #resumed = false;
  #load: ManagedProcess | undefined;
  #loadLog: OutputLog | undefined;
  #tracer: SyscallSession | undefined;
  #processes: ProcessWatcher | undefined;
  #progress: ProgressDisplay | undefined;
  #lastRate: number | undefined;
  #stoppedBy: StoppedBy | undefined;
  #problem: WrappError | undefined;

  /** Nothing runs before {@linkcode RecordingRun.run}. */
  constructor(run: RecordingRunOptions) {
    this.#options = run.options;
    this.#arch = run.arch;
    this.#trace = run.trace;
    this.#sinks = run.sinks;
    this.#stop = run.stop;
    this.#appLog = run.appLog;
    this.#logs = run.logs;
    this.#started = run.started;
    this.#debug = run.debug;
    this.#waits = new RecordingWaits({
      stop: run.stop,
      tracer: () => this.#tracer,
      started: run.started,
      debug: run.debug,
    });
  }

  /** The application, once started. */
  get app(): ManagedProcess | undefined {
    return this.#app;
  }

  /** Whether the application was let go past its exec (the tracer attached). */
  get resumed(): boolean {
    return this.#resumed;
  }

  /** The load generator, once started. */
  get load(): ManagedProcess | undefined {
    return this.#load;
  }

  /** The workload's log, when there was a preparation or a load. */
  get loadLog(): OutputLog | undefined {
    return this.#loadLog;
  }

  /** The tracer, once attached. */
  get tracer(): SyscallSession | undefined {
    return this.#tracer;
  }

  /** The /proc samples of the traced processes, once the application runs. */
  get processes(): ProcessWatcher | undefined {
    return this.#processes;
  }

  /** The progress bar, during the measured part. */
  get progress(): ProgressDisplay | undefined {
    return this.#progress;
  }

  /** How the recording ended, once it did (undefined: not decided by the run). */
  get stoppedBy(): StoppedBy | undefined {
    return this.#stoppedBy;
  }

  /** The first thing that went wrong. */
  get problem(): WrappError | undefined {
    return this.#problem;
  }

  /**
   * Setup, the application started and traced, ready, preparation, the measured part;
   * stops at the first failure or signal. Never throws: a failure becomes `problem`.
   */
  async run(plan: RecordPlan, workDir: string, dir: string): Promise<void> {
    const appName = basename(plan.app.command[0]);
    try {
      await this.#setup(plan, workDir);
      // The application, held before its exec until the tracer is attached.
      if (this.#stoppedBy === undefined) await this.#startApp(plan, workDir, appName);
      if (this.#app && this.#child && this.#tracer && this.#stoppedBy === undefined) {
        const resumeTime = await this.#resume(plan, appName);
        if (plan.ready) await this.#waitReady(plan.ready, appName, resumeTime);
        await this.#prepare(plan, workDir, dir, appName);
        if (this.#stoppedBy === undefined) await this.#measure(plan, workDir, appName);
      }
    } catch (error) {
      this.#fail(error instanceof WrappError ? error : new WrappError(describeCause(error)));
    }
  }

  /** Setup (untraced): e.g. initdb. */
  async #setup(plan: RecordPlan, workDir: string): Promise<void> {
    for (const step of plan.setup) {
      const started = now();
      const outcome = await this.#waits.step(step, this.#appLog, workDir);
      this.#sinks.tef(
        this.#trace.phase(step.name, started, now(), { command: shellQuote(step.command) }),
      );
      if (this.#stopped(outcome)) break;
      if (outcome.kind === "step exit" && !succeeded(outcome.status)) {
        this.#fail(stepFailed(step, outcome.status, this.#appLog));
        break;
      }
    }
  }

  /** Start the application held before its exec, and the tracer on it. */
  async #startApp(plan: RecordPlan, workDir: string, appName: string): Promise<void> {
    this.#appLog.note(`$ ${shellQuote(plan.app.command)}\n`);
    const { process: app, child } = await startHeld(appName, plan.app, {
      log: this.#appLog,
      cwd: workDir,
    });
    this.#child = child;
    this.#app = app;
    this.#started.push(app);
    try {
      this.#tracer = await startRecordingTracer({
        pid: app.pid,
        options: this.#options,
        arch: this.#arch,
        trace: this.#trace,
        sinks: this.#sinks,
        rate: (callsPerSecond) => this.#lastRate = callsPerSecond,
        debug: this.#debug,
      });
    } catch (error) {
      this.#fail(
        error instanceof WrappError
          ? error
          : new SidecarError(`Cannot start bpftrace: ${describeCause(error)}`),
      );
    }
  }

  /** Let the application run from its exec on, traced; resolves with when it resumed. */
  async #resume(plan: RecordPlan, appName: string): Promise<number> {
    const app = this.#app!;
    const options = this.#options;
    // The root's lifetime starts at its exec.
    this.#trace.rootPid = app.pid;
    const resumeTime = now();
    this.#child!.resume();
    this.#resumed = true;
    // The first samples would otherwise see the launcher shell, not the application.
    await waitForExec(app.pid, plan.app.command[0]);
    this.#processes = new ProcessWatcher({
      rootPid: app.pid,
      rootStartTime: resumeTime,
      trace: this.#trace,
      emit: (events) => this.#sinks.tef(events),
    });
    const until = plan.load
      ? `; then ${basename(plan.load.command[0])} for ${_seconds(options.durationMs ?? 0)}`
      : options.durationMs
      ? `, until it exits or ${_seconds(options.durationMs)} pass`
      : ", until it exits";
    options.notice(
      `wrapp record: ${appName} (pid ${app.pid}) traced by bpftrace ${options.bpftrace.version}${until}; Ctrl-C stops`,
    );
    return resumeTime;
  }

  /** Wait until the application answers. */
  async #waitReady(ready: () => Promise<void>, appName: string, resumeTime: number) {
    const app = this.#app!;
    const outcome = await this.#waits.race(
      app,
      ready().then(
        () => ({ kind: "ready" as const }),
        (error) => ({ kind: "not ready" as const, reason: describeCause(error) }),
      ),
    );
    this.#sinks.tef(this.#trace.phase(`start ${appName}`, resumeTime, now(), { pid: app.pid }));
    if (this.#stopped(outcome)) return;
    if (outcome.kind === "app exit") {
      this.#fail(
        new WrappError(
          `${appName} exited before it was ready (${describeExit(outcome.status)})${
            lastOutput(this.#appLog)
          }`,
        ),
      );
    } else if (outcome.kind === "not ready") {
      this.#fail(new WrappError(`${appName} is ${outcome.reason}${lastOutput(this.#appLog)}`));
    }
  }

  /** Preparation (traced): e.g. pgbench -i. */
  async #prepare(plan: RecordPlan, workDir: string, dir: string, appName: string) {
    if (this.#stoppedBy === undefined && (plan.prepare.length > 0 || plan.load)) {
      this.#loadLog = await OutputLog.open(`${dir}/workload.log`);
      this.#logs.push(this.#loadLog);
    }
    for (const step of plan.prepare) {
      if (this.#stoppedBy !== undefined) break;
      const started = now();
      const outcome = await this.#waits.step(step, this.#loadLog!, workDir, this.#app);
      this.#sinks.tef(
        this.#trace.phase(step.name, started, now(), { command: shellQuote(step.command) }),
      );
      if (this.#stopped(outcome)) break;
      if (outcome.kind === "app exit") {
        this.#fail(appDied(appName, outcome.status, this.#appLog));
      } else if (outcome.kind === "step exit" && !succeeded(outcome.status)) {
        this.#fail(stepFailed(step, outcome.status, this.#loadLog!));
      }
    }
  }

  /** The measured part: the load (or the command by itself) for the duration. */
  async #measure(plan: RecordPlan, workDir: string, appName: string): Promise<void> {
    const options = this.#options;
    const app = this.#app!;
    const loadLog = this.#loadLog;
    const started = now();
    const label = plan.load ? basename(plan.load.command[0]) : appName;
    if (plan.load) {
      loadLog!.note(`$ ${shellQuote(plan.load.command)}\n`);
      this.#load = await startProcess(label, plan.load, { log: loadLog, cwd: workDir });
      this.#started.push(this.#load);
    }
    const load = this.#load;
    this.#progress = new ProgressDisplay(() => ({
      elapsedMs: now() - started,
      totalMs: options.durationMs || undefined,
      label,
      detail: `${
        this.#lastRate === undefined ? "" : `${Math.round(this.#lastRate)} syscalls/s, `
      }RSS ${((this.#processes?.rssKb ?? 0) / 1024).toFixed(1)} MiB`,
    }), options.progress);
    const limit = options.durationMs
      ? options.durationMs + (plan.load?.stopsItself ? LOAD_GRACE_MS : 0)
      : undefined;
    const loadExit = load?.status.then((status) => ({ kind: "load exit" as const, status }));
    let outcome = await this.#waits.race(app, loadExit, limit);
    // Every test of the workload runs at least once, whatever the duration.
    const covered = plan.load?.covered;
    if (outcome.kind === "duration" && covered && !covered(loadLog!.text)) {
      this.#debug(`${label} has not run each of its tests yet: letting it finish a round`);
      const round = new AbortController();
      outcome = await this.#waits.race(
        app,
        Promise.race([loadExit!, until(() => covered(loadLog!.text), round.signal)]),
      );
      round.abort();
    }
    this.#progress.stop();
    if (!this.#stopped(outcome)) this.#measured(outcome, plan, label, appName);
    if (load) {
      const loadEnd = load.exited()?.time ?? now();
      this.#sinks.tef(this.#trace.phase(label, started, loadEnd, {
        command: shellQuote(plan.load!.command),
      }));
    } else {
      this.#sinks.tef(this.#trace.phase(label, started, app.exited()?.time ?? now(), {}));
    }
  }

  /** How the measured part ended, when not by a signal or the tracer. */
  #measured(
    outcome: Outcome | { kind: "load exit"; status: ExitStatus },
    plan: RecordPlan,
    label: string,
    appName: string,
  ): void {
    if (outcome.kind === "duration") this.#stoppedBy = "duration";
    else if (outcome.kind === "load exit") {
      if (succeeded(outcome.status)) {
        this.#stoppedBy = plan.load?.stopsItself ? "duration" : "workload end";
      } else {
        this.#fail(
          new WrappError(
            `The workload failed: ${label} ended with ${describeExit(outcome.status)}${
              lastOutput(this.#loadLog!)
            }`,
          ),
        );
      }
    } else if (outcome.kind === "app exit") {
      if (plan.load) this.#fail(appDied(appName, outcome.status, this.#appLog));
      else this.#stoppedBy = "exit";
    }
  }

  #fail(error: WrappError): void {
    this.#problem ??= error;
    this.#stoppedBy ??= "error";
  }

  /** Whether the outcome ends the recording (a signal, the tracer failing), noting why. */
  #stopped(outcome: { kind: string }): boolean {
    const ending = outcome as Outcome;
    if (ending.kind === "signal") this.#stoppedBy ??= ending.signal as StoppedBy;
    if (ending.kind === "tracer") this.#fail(ending.error);
    return ending.kind === "signal" || ending.kind === "tracer";
  }
}

function _seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : formatDurationNs(ms * 1e6);
}
