/**
 * One recording, start to finish: set the application up in a private folder, start it
 * held before its exec, attach the syscall tracer, let it run, wait until it answers,
 * drive the load for the duration (a progress bar meanwhile), stop the load and the
 * application cleanly, and write `trace.json`, `summary.txt` and `metadata.json`.
 *
 * Whatever happens — a failed step, a crash, Ctrl-C — everything started is stopped
 * (SIGKILL to each process group at the latest), the private folder is removed, and the
 * files are still written with what was recorded and what went wrong. A first SIGINT,
 * SIGTERM or SIGHUP stops cleanly; a second one stops at once.
 *
 * @module
 */

import { basename } from "node:path";
import { type Event, now } from "../../core/event.ts";
import { describeCause, SidecarError, WrappError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import type { Router } from "../../pipeline/router.ts";
import type { TraceEventFileSink } from "../../pipeline/sinks/trace_event_file.ts";
import { openPipeline, openPipelineRedis } from "../../pipeline/open_pipeline.ts";
import { describeExit, type ExitStatus, shellExitCode } from "../../core/signals.ts";
import type { AnomalyOptions } from "../../pipeline/syscalls/anomaly_detector.ts";
import type { AnomalyEvent, SyscallEvent } from "../../pipeline/syscalls/syscall_events.ts";
import { hostArch } from "../../pipeline/syscalls/syscall_table.ts";
import { SyscallTracer, type TraceSummary } from "../../pipeline/syscalls/syscall_tracer.ts";
import { spawnStopped, type StoppedChild } from "../../pipeline/sources/spawn_stopped.ts";
import { formatDurationNs } from "../../core/parse_duration.ts";
import { VERSION } from "../../core/version.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import { freeLoopbackPort } from "./free_port.ts";
import {
  type ManagedProcess,
  manageStopped,
  startProcess,
  userSwitchPrefix,
} from "./managed_process.ts";
import {
  exitStatusJson,
  formatMetadata,
  type RecordingMetadata,
  type StoppedBy,
} from "./metadata.ts";
import { OutputLog } from "./output_log.ts";
import { type ProcessSeen, ProcessWatcher } from "./process_watcher.ts";
import { waitForExec } from "./process_tree.ts";
import { ProgressDisplay, type ProgressDisplayOptions } from "./progress_bar.ts";
import { createRecordingDir, handOver, sudoUser } from "./recording_dir.ts";
import { RecordingTrace, type TefObject } from "./recording_trace.ts";
import { shellQuote } from "./shell_words.ts";
import { formatRecordingSummary } from "./summary_text.ts";
import type { PlanContext, RecordPlan, StepSpec } from "./workload.ts";

/** How long a load generator gets after its signal, and one that stops itself after its duration, ms. */
const _LOAD_GRACE_MS = 5_000;

/** Options for {@linkcode recordApplication}. */
export interface RecordOptions {
  /** The recording's name: a workload (`redis`) or a custom command's program name. */
  app: string;
  /** Makes the commands, given a private folder, a port and the duration. */
  plan: (context: PlanContext) => Promise<RecordPlan>;
  /** Programs found for the workload's needs, by name (passed to `plan`). */
  programs?: Readonly<Record<string, string>>;
  /** How long the load runs, ms; undefined: until the application exits (a custom command). */
  durationMs?: number;
  /** Folder the recording folder goes in (`traces`). */
  outDir: string;
  /** The bpftrace to run (from the preflight check). */
  bpftrace: { path: string; version: string };
  /** Calls at least this slow are examined one by one and drawn, ns. Default 1 ms. */
  floorNs?: number;
  /** Anomaly thresholds. */
  anomaly?: AnomalyOptions;
  /** Also send the summary and anomalies to Redis. */
  redis?: { url: string; passwordFile?: string; name: string };
  /** Grace between the application's stop signal and SIGKILL, ms. Default 10000. */
  stopGraceMs?: number;
  /** One line for the user on stderr (`wrapp record: …`). */
  notice: (text: string) => void;
  /** Debug logger. */
  debug?: DebugLog;
  /** Progress display options (tests). */
  progress?: ProgressDisplayOptions;
  /** Environment lookup (SUDO_UID, WRAPP_REDIS_PASSWORD). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

/** What a recording left. */
export interface RecordResult {
  /** The recording's folder and name. */
  dir: string;
  name: string;
  /** What `metadata.json` holds. */
  metadata: RecordingMetadata;
  /** The load generator's figures. */
  results: string[];
  /** The exit code for wrapp: 0, or a custom command's own exit code. */
  exitCode: number;
  /** What went wrong, when something did (the files were written regardless). */
  error?: WrappError;
}

/** Run one recording; see the module documentation. */
export async function recordApplication(options: RecordOptions): Promise<RecordResult> {
  const recording = new _Recording(options);
  try {
    return await recording.run();
  } finally {
    await recording.cleanup();
  }
}

/** Resolves with a `duration` outcome once `done()` holds (checked every 50 ms), unless aborted. */
function _until(done: () => boolean, signal: AbortSignal): Promise<{ kind: "duration" }> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!done()) return;
      clearInterval(timer);
      resolve({ kind: "duration" });
    }, 50);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
}

type _Outcome =
  | { kind: "duration" }
  | { kind: "signal"; signal: Deno.Signal }
  | { kind: "app exit"; status: ExitStatus }
  | { kind: "tracer"; error: SidecarError };

class _Recording {
  readonly #options: RecordOptions;
  readonly #debug: DebugLog;
  readonly #started: ManagedProcess[] = [];
  readonly #tempDirs: string[] = [];
  readonly #signals: [Deno.Signal, () => void][] = [];
  readonly #stop = Promise.withResolvers<Deno.Signal>();
  #stopSignal: Deno.Signal | undefined;
  #forced = false;
  #tefRouter: Router | undefined;
  #allRouter: Router | undefined;
  #tefSink: TraceEventFileSink | undefined;
  #trace: RecordingTrace | undefined;
  #tracer: SyscallTracer | undefined;
  #progress: ProgressDisplay | undefined;
  #processes: ProcessWatcher | undefined;
  #lastRate: number | undefined;
  #logs: OutputLog[] = [];

  constructor(options: RecordOptions) {
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
  }

  async run(): Promise<RecordResult> {
    const options = this.#options;
    const startTime = now();
    const arch = hostArch();
    // Redis first: a bad URL or password file is a usage error, before any folder exists.
    const redis = options.redis
      ? await openPipelineRedis({
        fromFlags: {
          url: options.redis.url,
          passwordFile: options.redis.passwordFile,
          streamName: options.redis.name,
          env: options.env ?? ((name) => Deno.env.get(name)),
          log: (message) => options.notice(`wrapp record: ${message}`),
          debug: this.#debug,
        },
      })
      : undefined;
    // The plan (config files, data folders) before the recording's folder: a plan that
    // cannot be made leaves nothing behind.
    const workDir = await Deno.makeTempDir({ prefix: "wrapp-record-" });
    this.#tempDirs.push(workDir);
    let plan: RecordPlan;
    let created: { dir: string; name: string };
    // Only a folder wrapp makes is handed to the sudo user (never, say, --out /tmp).
    const newOutDir = !(await Deno.stat(options.outDir).then(() => true, () => false));
    try {
      plan = await options.plan({
        workDir,
        port: freeLoopbackPort(),
        durationMs: options.durationMs ?? 0,
        programs: options.programs ?? {},
      });
      created = await createRecordingDir(options.outDir, options.app, new Date(startTime));
    } catch (error) {
      await redis?.close();
      throw error instanceof WrappError
        ? error
        : new WrappError(`Cannot record "${options.app}": ${describeCause(error)}`, {
          cause: error,
        });
    }
    const { dir, name } = created;
    const pipeline = await openPipeline({
      trace: { runDir: dir, processName: `wrapp record ${options.app}`, runId: name },
      redis: redis && { sink: redis },
      debug: this.#debug,
    });
    this.#tefSink = pipeline.traceSink!;
    this.#tefRouter = pipeline.routerTo([this.#tefSink]);
    this.#allRouter = pipeline.router;
    const redisRouter = redis && pipeline.routerTo([redis]);
    const appLog = await OutputLog.open(`${dir}/app.log`);
    this.#logs.push(appLog);
    this.#listenForSignals();
    const appName = basename(plan.app.command[0]);
    this.#allRouter.emit({
      kind: "status",
      time: startTime,
      phase: "start",
      message: `recording ${options.app}`,
      fields: {
        app: options.app,
        command: shellQuote(plan.app.command),
        ...(plan.load ? { workload: shellQuote(plan.load.command) } : {}),
        ...(options.durationMs ? { duration_s: options.durationMs / 1000 } : {}),
        bpftrace: options.bpftrace.version,
        wrapp: VERSION,
      },
    });
    const trace = new RecordingTrace({ wrappPid: Deno.pid, rootPid: 0, arch });
    this.#trace = trace;
    this.#tef(trace.phasesTrack());
    const appVersion = plan.version ? plan.version() : Promise.resolve(undefined);

    let stoppedBy: StoppedBy | undefined;
    let problem: WrappError | undefined;
    let app: ManagedProcess | undefined;
    let child: StoppedChild | undefined;
    let resumed = false;
    let load: ManagedProcess | undefined;
    let loadLog: OutputLog | undefined;
    let summary: TraceSummary | undefined;
    const fail = (error: WrappError) => {
      problem ??= error;
      stoppedBy ??= "error";
    };
    /** Whether the outcome ends the recording (a signal, the tracer failing), noting why. */
    const stopped = (outcome: { kind: string }): boolean => {
      const ending = outcome as _Outcome;
      if (ending.kind === "signal") stoppedBy ??= ending.signal as StoppedBy;
      if (ending.kind === "tracer") fail(ending.error);
      return ending.kind === "signal" || ending.kind === "tracer";
    };

    try {
      // Setup (untraced): e.g. initdb.
      for (const step of plan.setup) {
        const started = now();
        const outcome = await this.#step(step, appLog, workDir);
        this.#tef(trace.phase(step.name, started, now(), { command: shellQuote(step.command) }));
        if (stopped(outcome)) break;
        if (outcome.kind === "step exit" && !_success(outcome.status)) {
          fail(this.#stepFailed(step, outcome.status, appLog));
          break;
        }
      }

      // The application, held before its exec until the tracer is attached.
      if (stoppedBy === undefined) {
        const { prefix, env } = await userSwitchPrefix(plan.app.user);
        const command = [...prefix, ...plan.app.command];
        appLog.note(`$ ${shellQuote(plan.app.command)}\n`);
        child = await spawnStopped(command[0], command.slice(1), {
          detached: true,
          output: "piped",
          cwd: plan.app.cwd ?? workDir,
          env: { ...env, ...plan.app.env },
        });
        app = manageStopped(appName, child);
        this.#started.push(app);
        appLog.pump(child.stdout);
        appLog.pump(child.stderr);
        try {
          this.#tracer = await SyscallTracer.start({
            pid: app.pid,
            bpftrace: options.bpftrace.path,
            arch,
            perThread: true,
            floorNs: options.floorNs,
            anomaly: options.anomaly,
            debug: this.#debug,
            emit: (event) => this.#onTracerEvent(event, redisRouter),
            onSlowCall: (call, start) => trace.slowCall(call, start),
          });
        } catch (error) {
          fail(
            error instanceof WrappError
              ? error
              : new SidecarError(`Cannot start bpftrace: ${describeCause(error)}`),
          );
        }
      }
      if (app && child && this.#tracer && stoppedBy === undefined) {
        // The root's lifetime starts at its exec.
        trace.rootPid = app.pid;
        const resumeTime = now();
        child.resume();
        resumed = true;
        // The first samples would otherwise see the launcher shell, not the application.
        await waitForExec(app.pid, plan.app.command[0]);
        this.#processes = new ProcessWatcher({
          rootPid: app.pid,
          rootStartTime: resumeTime,
          trace,
          emit: (events) => this.#tef(events),
        });
        const until = plan.load
          ? `; then ${basename(plan.load.command[0])} for ${_seconds(options.durationMs ?? 0)}`
          : options.durationMs
          ? `, until it exits or ${_seconds(options.durationMs)} pass`
          : ", until it exits";
        options.notice(
          `wrapp record: ${appName} (pid ${app.pid}) traced by bpftrace ${options.bpftrace.version}${until}; Ctrl-C stops`,
        );

        // Ready?
        if (plan.ready) {
          const outcome = await this.#race(
            app,
            plan.ready().then(
              () => ({ kind: "ready" as const }),
              (error) => ({ kind: "not ready" as const, reason: describeCause(error) }),
            ),
          );
          this.#tef(trace.phase(`start ${appName}`, resumeTime, now(), { pid: app.pid }));
          if (!stopped(outcome)) {
            if (outcome.kind === "app exit") {
              fail(
                new WrappError(
                  `${appName} exited before it was ready (${describeExit(outcome.status)})${
                    _tail(appLog)
                  }`,
                ),
              );
            } else if (outcome.kind === "not ready") {
              fail(new WrappError(`${appName} is ${outcome.reason}${_tail(appLog)}`));
            }
          }
        }

        // Preparation (traced): e.g. pgbench -i.
        if (stoppedBy === undefined && (plan.prepare.length > 0 || plan.load)) {
          loadLog = await OutputLog.open(`${dir}/workload.log`);
          this.#logs.push(loadLog);
        }
        for (const step of plan.prepare) {
          if (stoppedBy !== undefined) break;
          const started = now();
          const outcome = await this.#step(step, loadLog!, workDir, app);
          this.#tef(trace.phase(step.name, started, now(), { command: shellQuote(step.command) }));
          if (stopped(outcome)) break;
          if (outcome.kind === "app exit") fail(this.#appDied(appName, outcome.status, appLog));
          else if (outcome.kind === "step exit" && !_success(outcome.status)) {
            fail(this.#stepFailed(step, outcome.status, loadLog!));
          }
        }

        // The measured part: the load (or the command by itself) for the duration.
        if (stoppedBy === undefined) {
          const started = now();
          const label = plan.load ? basename(plan.load.command[0]) : appName;
          if (plan.load) {
            loadLog!.note(`$ ${shellQuote(plan.load.command)}\n`);
            load = await startProcess(label, plan.load, { log: loadLog, cwd: workDir });
            this.#started.push(load);
          }
          this.#progress = new ProgressDisplay(() => ({
            elapsedMs: now() - started,
            totalMs: options.durationMs || undefined,
            label,
            detail: `${
              this.#lastRate === undefined ? "" : `${Math.round(this.#lastRate)} syscalls/s, `
            }RSS ${((this.#processes?.rssKb ?? 0) / 1024).toFixed(1)} MiB`,
          }), options.progress);
          const limit = options.durationMs
            ? options.durationMs + (plan.load?.stopsItself ? _LOAD_GRACE_MS : 0)
            : undefined;
          const loadExit = load?.status.then((status) => ({
            kind: "load exit" as const,
            status,
          }));
          let outcome = await this.#race(app, loadExit, limit);
          // Every test of the workload runs at least once, whatever the duration.
          const covered = plan.load?.covered;
          if (outcome.kind === "duration" && covered && !covered(loadLog!.text)) {
            this.#debug(`${label} has not run each of its tests yet: letting it finish a round`);
            const round = new AbortController();
            outcome = await this.#race(
              app,
              Promise.race([loadExit!, _until(() => covered(loadLog!.text), round.signal)]),
            );
            round.abort();
          }
          this.#progress.stop();
          if (!stopped(outcome)) {
            if (outcome.kind === "duration") stoppedBy = "duration";
            else if (outcome.kind === "load exit") {
              if (_success(outcome.status)) {
                stoppedBy = plan.load?.stopsItself ? "duration" : "workload end";
              } else {
                fail(
                  new WrappError(
                    `The workload failed: ${label} ended with ${describeExit(outcome.status)}${
                      _tail(loadLog!)
                    }`,
                  ),
                );
              }
            } else if (outcome.kind === "app exit") {
              if (plan.load) fail(this.#appDied(appName, outcome.status, appLog));
              else stoppedBy = "exit";
            }
          }
          if (load) {
            const loadEnd = load.exited()?.time ?? now();
            this.#tef(trace.phase(label, started, loadEnd, {
              command: shellQuote(plan.load!.command),
            }));
          } else {
            this.#tef(trace.phase(label, started, app.exited()?.time ?? now(), {}));
          }
        }
      }
    } catch (error) {
      fail(error instanceof WrappError ? error : new WrappError(describeCause(error)));
    }

    // Stop the load, then the application; the tracer last, so it sees the shutdown.
    if (load && !load.exited()) {
      await load.stop(plan.load!.stopSignal, { graceMs: this.#grace(_LOAD_GRACE_MS), group: true });
    }
    load?.killGroup();
    // Still held before its exec (the tracer did not start): nothing to stop cleanly.
    if (app && !resumed) app.killGroup();
    if (app && !app.exited() && resumed) {
      const stopStart = now();
      await app.stop(plan.app.stopSignal, {
        graceMs: this.#grace(options.stopGraceMs ?? 10_000),
        group: plan.app.signalGroup,
      });
      const exit = app.exited();
      this.#tef(trace.phase(`stop ${appName}`, stopStart, exit?.time ?? now(), {
        signal: plan.app.stopSignal,
        exit: exit ? describeExit(exit.status) : "unknown",
      }));
    }
    app?.killGroup();
    const appExit = app?.exited();
    if (this.#tracer) {
      // The last slow calls arrive with bpftrace's exit line; the final maps with the stop.
      if (appExit) await this.#tracer.drained();
      summary = await this.#tracer.stop();
    }
    await this.#processes?.stop();
    const endTime = now();
    if (app) {
      this.#tef(trace.processExited(app.pid, appExit?.time ?? endTime, {
        exit: appExit ? describeExit(appExit.status) : "unknown",
      }));
    }
    this.#tef(trace.finish(endTime, { end: "still running when the recording ended" }));

    const results = plan.results && loadLog ? plan.results(loadLog.text) : [];
    const processes = _allProcesses(this.#processes?.processes ?? [], trace, summary);
    // Threads from the kernel's counts: exact, even for those too short-lived to sample.
    const threads = new Set(summary?.rows.map((row) => row.tid) ?? []).size;
    stoppedBy ??= this.#stopSignal as StoppedBy | undefined ?? "duration";
    const metadataBase = {
      app: options.app,
      command: plan.app.command,
      workload: plan.load?.command ?? null,
      app_version: (await appVersion) ?? null,
      wrapp_version: VERSION,
      bpftrace_version: options.bpftrace.version,
      kernel: Deno.osRelease(),
      arch,
      host: Deno.hostname(),
      start: new Date(startTime).toISOString(),
      end: new Date(endTime).toISOString(),
      duration_s: Math.round(endTime - startTime) / 1000,
    };
    this.#allRouter.emit({
      kind: "status",
      time: endTime,
      phase: "exit",
      message: `recorded ${options.app}: ${summary?.calls ?? 0} syscalls, ${
        summary?.anomalyCount ?? 0
      } anomalies`,
      fields: {
        calls: summary?.calls ?? 0,
        errors: summary?.errors ?? 0,
        anomalies: summary?.anomalyCount ?? 0,
        lost_events: summary?.lostEvents ?? 0,
        stopped_by: stoppedBy,
        ...(appExit?.status.code !== undefined ? { exit_code: appExit.status.code } : {}),
        ...(appExit?.status.signal !== undefined ? { signal: appExit.status.signal } : {}),
        ...(problem ? { problem: problem.message } : {}),
        dir,
      },
    });
    // Both routers write to the trace sink: deliver everything before either closes it.
    await this.#allRouter.flush();
    await redisRouter?.flush();
    await this.#tefRouter.close();
    await this.#allRouter.close();
    await redisRouter?.close();
    const sinkProblem = await this.#tefSink.healthCheck();
    if (sinkProblem) options.notice(`wrapp record: ${sinkProblem}`);
    for (const log of this.#logs) await log.close();

    const metadata: RecordingMetadata = {
      ...metadataBase,
      events: this.#tefSink.assembled?.events ?? 0,
      lost_events: summary?.lostEvents ?? 0,
      syscalls: summary?.calls ?? 0,
      syscall_errors: summary?.errors ?? 0,
      slow_syscalls: trace.slowCallsDrawn + trace.slowCallsNotDrawn,
      anomalies: summary?.anomalyCount ?? 0,
      processes: processes.length,
      threads,
      exit_status: exitStatusJson(appExit?.status),
      workload_exit_status: exitStatusJson(load?.exited()?.status),
      stopped_by: stoppedBy,
      problem: problem?.message ?? null,
    };
    const threadNames = { ...(summary?.threads ?? {}), ...trace.threadNames };
    const summaryText = formatRecordingSummary({
      metadata,
      trace: summary,
      processes,
      threadNames,
      threadProcess: (tid) => trace.processOf(tid),
      results,
    });
    await Deno.writeTextFile(`${dir}/summary.txt`, summaryText);
    await Deno.writeTextFile(`${dir}/metadata.json`, formatMetadata(metadata));
    const owner = sudoUser(options.env);
    await handOver([
      ...(newOutDir ? [options.outDir] : []),
      dir,
      ...["trace.json", "events.jsonl", "summary.txt", "metadata.json", "app.log", "workload.log"]
        .map((file) => `${dir}/${file}`),
    ], owner);

    const exitCode = problem
      ? problem.exitCode
      : !plan.load && stoppedBy === "exit" && appExit
      ? shellExitCode(appExit.status)
      : 0;
    return { dir, name, metadata, results, exitCode, ...(problem ? { error: problem } : {}) };
  }

  /** Stop everything still running, remove the private folder, stop listening for signals. */
  async cleanup(): Promise<void> {
    this.#progress?.stop();
    await this.#processes?.stop().catch(() => {});
    for (const process of this.#started) process.killGroup();
    await Promise.race([Promise.all(this.#started.map((p) => p.status)), _sleep(5000)]);
    if (this.#tracer) await this.#tracer.stop().catch(() => {});
    await this.#tefRouter?.close().catch(() => {});
    await this.#allRouter?.close().catch(() => {});
    for (const log of this.#logs) await log.close(100).catch(() => {});
    for (const dir of this.#tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    for (const [signal, handler] of this.#signals) Deno.removeSignalListener(signal, handler);
  }

  #tef(events: readonly TefObject[]): void {
    if (events.length === 0 || !this.#tefRouter) return;
    const time = now();
    this.#tefRouter.emitAll(
      events.map((event): Event => ({
        kind: "tef",
        time,
        stream: this.#options.app,
        event,
      })),
    );
  }

  #onTracerEvent(event: SyscallEvent | AnomalyEvent, redis: Router | undefined): void {
    const trace = this.#trace!;
    if (event.kind === "anomaly") {
      trace.anomaly(event);
      redis?.emit(event);
      return;
    }
    // Every slow call of the second is judged by now: draw them.
    this.#tef(trace.flush());
    if (event.scope === "interval") {
      this.#tef(trace.interval(event));
      this.#lastRate = event.calls / Math.max((event.time - event.startTime) / 1000, 1e-3);
    }
    this.#allRouter?.emit(event);
  }

  /** Run a step to its end, or until a stop signal (or the application's exit, when given). */
  async #step(
    step: StepSpec,
    log: OutputLog,
    workDir: string,
    app?: ManagedProcess,
  ): Promise<_Outcome | { kind: "step exit"; status: ExitStatus }> {
    log.note(`$ ${shellQuote(step.command)}\n`);
    this.#debug(`${step.name}: ${shellQuote(step.command)}`);
    const process = await startProcess(step.name, step, { log, cwd: workDir });
    this.#started.push(process);
    const never = new Promise<never>(() => {});
    const outcome = await Promise.race([
      process.status.then((status) => ({ kind: "step exit" as const, status })),
      this.#stop.promise.then((signal): _Outcome => ({ kind: "signal", signal })),
      app ? app.status.then((status): _Outcome => ({ kind: "app exit", status })) : never,
      this.#tracer
        ? this.#tracer.failed.then((error): _Outcome => ({ kind: "tracer", error }))
        : never,
    ]);
    if (outcome.kind !== "step exit") {
      await process.stop("SIGTERM", { graceMs: this.#grace(2000), group: true });
    }
    return outcome;
  }

  #stepFailed(step: StepSpec, status: ExitStatus, log: OutputLog): WrappError {
    return new WrappError(`${step.name} failed (${describeExit(status)})${_tail(log)}`);
  }

  #appDied(name: string, status: ExitStatus, log: OutputLog): WrappError {
    return new WrappError(
      `${name} exited during the recording (${describeExit(status)})${_tail(log)}`,
    );
  }

  /** Wait for the first of: `work`, the application's exit, a signal, the tracer failing, `limitMs`. */
  async #race<T>(
    app: ManagedProcess,
    work: Promise<T> | undefined,
    limitMs?: number,
  ): Promise<_Outcome | T> {
    let timer: LongTimer | undefined;
    const never = new Promise<never>(() => {});
    try {
      return await Promise.race([
        work ?? never,
        app.status.then((status): _Outcome => ({ kind: "app exit", status })),
        this.#stop.promise.then((signal): _Outcome => ({ kind: "signal", signal })),
        this.#tracer
          ? this.#tracer.failed.then((error): _Outcome => ({ kind: "tracer", error }))
          : never,
        limitMs === undefined ? never : new Promise<_Outcome>((resolve) => {
          timer = setLongTimeout(() => resolve({ kind: "duration" }), limitMs);
        }),
      ]);
    } finally {
      timer?.clear();
    }
  }

  #grace(ms: number): number {
    return this.#forced ? 0 : ms;
  }

  #listenForSignals(): void {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const handler = () => {
        if (this.#stopSignal === undefined) {
          this.#stopSignal = signal;
          this.#progress?.stop();
          this.#options.notice(
            `wrapp record: ${signal}: stopping cleanly and writing the results (again to stop at once)`,
          );
          this.#stop.resolve(signal);
        } else {
          this.#forced = true;
          for (const process of this.#started) process.killGroup();
        }
      };
      try {
        Deno.addSignalListener(signal, handler);
        this.#signals.push([signal, handler]);
      } catch {
        // Not supported here.
      }
    }
  }
}

/**
 * The processes the /proc samples saw, plus those only the tracer saw (too short-lived
 * to be sampled), with their thread counts from the kernel's per-thread rows.
 */
function _allProcesses(
  sampled: readonly ProcessSeen[],
  trace: RecordingTrace,
  summary: TraceSummary | undefined,
): ProcessSeen[] {
  const tids = new Map<number, Set<number>>();
  for (const row of summary?.rows ?? []) {
    if (row.tid === undefined) continue;
    const pid = trace.processOf(row.tid) ?? row.tid;
    tids.set(pid, (tids.get(pid) ?? new Set()).add(row.tid));
  }
  const all = sampled.map((p) => ({
    ...p,
    threads: Math.max(p.threads, tids.get(p.pid)?.size ?? 0),
  }));
  const known = new Set(all.map((p) => p.pid));
  for (const [pid, title] of Object.entries(trace.processTitles)) {
    if (known.has(Number(pid))) continue;
    all.push({ pid: Number(pid), title, peakRssKb: 0, threads: tids.get(Number(pid))?.size ?? 0 });
  }
  return all;
}

function _success(status: ExitStatus | undefined): boolean {
  return status !== undefined && status.code === 0;
}

function _tail(log: OutputLog): string {
  const tail = log.tail(5);
  return tail ? `; last output in "${log.path}":\n${tail}` : "";
}

function _seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : formatDurationNs(ms * 1e6);
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
