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
import { now } from "../../core/event.ts";
import { describeCause, WrappError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { describeExit, type ExitStatus, shellExitCode } from "../../core/signals.ts";
import { hostArch } from "../../pipeline/syscalls/syscall_table.ts";
import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import { summaryStatusFields } from "../../pipeline/syscalls/syscall_session.ts";
import { VERSION } from "../../core/version.ts";
import { freeLoopbackPort } from "./free_port.ts";
import type { ManagedProcess } from "./managed_process.ts";
import { exitStatusJson, type RecordingMetadata, type StoppedBy } from "./metadata.ts";
import { OutputLog } from "./output_log.ts";
import type { RecordOptions, RecordResult } from "./record_options.ts";
import { createRecordingDir } from "./recording_dir.ts";
import { allProcesses, writeRecordingFiles } from "./recording_results.ts";
import { LOAD_GRACE_MS, RecordingRun } from "./recording_run.ts";
import { openRecordingRedis, RecordingSinks } from "./recording_sinks.ts";
import { RecordingStop } from "./recording_stop.ts";
import { RecordingTrace, type TefObject } from "./recording_trace.ts";
import { shellQuote } from "./shell_words.ts";
import type { RecordPlan } from "./workload.ts";

// Its importers know them from here.
export type { RecordOptions, RecordResult } from "./record_options.ts";

/** Run one recording; see the module documentation. */
export async function recordApplication(options: RecordOptions): Promise<RecordResult> {
  const recording = new _Recording(options);
  try {
    return await recording.run();
  } finally {
    await recording.cleanup();
  }
}

/** What {@linkcode _Recording} set up before anything ran. */
interface _Opened {
  plan: RecordPlan;
  dir: string;
  name: string;
  workDir: string;
  /** Whether wrapp made the recordings folder (then it is handed over too). */
  newOutDir: boolean;
}

class _Recording {
  readonly #options: RecordOptions;
  readonly #debug: DebugLog;
  readonly #arch = hostArch();
  readonly #started: ManagedProcess[] = [];
  readonly #tempDirs: string[] = [];
  readonly #logs: OutputLog[] = [];
  #stop: RecordingStop | undefined;
  #sinks: RecordingSinks | undefined;
  #appLog!: OutputLog;
  #run: RecordingRun | undefined;

  constructor(options: RecordOptions) {
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
  }

  async run(): Promise<RecordResult> {
    const startTime = now();
    const opened = await this.#open(startTime);
    const { plan } = opened;
    this.#emitStart(plan, startTime);
    const trace = new RecordingTrace({ wrappPid: Deno.pid, rootPid: 0, arch: this.#arch });
    this.#tef(trace.phasesTrack());
    const appVersion = plan.version ? plan.version() : Promise.resolve(undefined);
    const run = new RecordingRun({
      options: this.#options,
      arch: this.#arch,
      trace,
      sinks: this.#sinks!,
      stop: this.#stop!,
      appLog: this.#appLog,
      logs: this.#logs,
      started: this.#started,
      debug: this.#debug,
    });
    this.#run = run;
    await run.run(plan, opened.workDir, opened.dir);
    const { summary, appExit } = await this.#stopAll(run, trace, plan);
    return await this.#finish(opened, { run, trace, summary, appExit, startTime, appVersion });
  }

  /** Stop everything still running, remove the private folder, stop listening for signals. */
  async cleanup(): Promise<void> {
    this.#run?.progress?.stop();
    await this.#run?.processes?.stop().catch(() => {});
    for (const process of this.#started) process.killGroup();
    await Promise.race([Promise.all(this.#started.map((p) => p.status)), _sleep(5000)]);
    await this.#run?.tracer?.close();
    await this.#sinks?.closeQuietly();
    for (const log of this.#logs) await log.close(100).catch(() => {});
    for (const dir of this.#tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    this.#stop?.close();
  }

  /** The sinks, the plan, the recording's folder and the application's log. */
  async #open(startTime: number): Promise<_Opened> {
    const options = this.#options;
    // Redis first: a bad URL or password file is a usage error, before any folder exists.
    const redis = await openRecordingRedis(options, this.#debug);
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
    this.#sinks = await RecordingSinks.open(redis, {
      app: options.app,
      dir,
      name,
      debug: this.#debug,
    });
    this.#appLog = await OutputLog.open(`${dir}/app.log`);
    this.#logs.push(this.#appLog);
    this.#stop = new RecordingStop({
      onFirst: (signal) => {
        this.#run?.progress?.stop();
        options.notice(
          `wrapp record: ${signal}: stopping cleanly and writing the results (again to stop at once)`,
        );
      },
      onForce: () => {
        for (const process of this.#started) process.killGroup();
      },
    });
    return { plan, dir, name, workDir, newOutDir };
  }

  #emitStart(plan: RecordPlan, startTime: number): void {
    const options = this.#options;
    this.#sinks!.emit({
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
  }

  /**
   * Stop the load, then the application; the tracer last, so it sees the shutdown.
   * Resolves with the trace's summary and how the application ended, when known.
   */
  async #stopAll(
    run: RecordingRun,
    trace: RecordingTrace,
    plan: RecordPlan,
  ): Promise<{ summary?: TraceSummary; appExit?: { status: ExitStatus; time: number } }> {
    const { load, app } = { load: run.load, app: run.app };
    const stop = this.#stop!;
    const appName = basename(plan.app.command[0]);
    if (load && !load.exited()) {
      await load.stop(plan.load!.stopSignal, { graceMs: stop.grace(LOAD_GRACE_MS), group: true });
    }
    load?.killGroup();
    // Still held before its exec (the tracer did not start): nothing to stop cleanly.
    if (app && !run.resumed) app.killGroup();
    if (app && !app.exited() && run.resumed) {
      run.processes?.keepTitles();
      const stopStart = now();
      await app.stop(plan.app.stopSignal, {
        graceMs: stop.grace(this.#options.stopGraceMs ?? 10_000),
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
    // The last slow calls arrive with bpftrace's exit line; the final maps with the stop.
    const summary = await run.tracer?.stop({ exited: appExit !== undefined });
    await run.processes?.stop();
    return { summary, appExit };
  }

  /** Close the trace, the sinks and the logs, write the files; the result. */
  async #finish(opened: _Opened, ended: {
    run: RecordingRun;
    trace: RecordingTrace;
    summary?: TraceSummary;
    appExit?: { status: ExitStatus; time: number };
    startTime: number;
    appVersion: Promise<string | undefined>;
  }): Promise<RecordResult> {
    const { plan, dir, name } = opened;
    const { run, trace, summary, appExit, startTime } = ended;
    const options = this.#options;
    const endTime = now();
    if (run.app) {
      this.#tef(trace.processExited(run.app.pid, appExit?.time ?? endTime, {
        exit: appExit ? describeExit(appExit.status) : "unknown",
      }));
    }
    this.#tef(trace.finish(endTime, { end: "still running when the recording ended" }));
    const results = plan.results && run.loadLog ? plan.results(run.loadLog.text) : [];
    const processes = allProcesses(run.processes?.processes ?? [], trace, summary);
    const stoppedBy: StoppedBy = run.stoppedBy ?? this.#stop?.signal as StoppedBy | undefined ??
      "duration";
    const problem = run.problem;
    const appVersion = (await ended.appVersion) ?? null;
    await this.#closeSinks(summary, {
      endTime,
      appExit: appExit?.status,
      dir,
      stoppedBy,
      problem,
    });
    const metadata: RecordingMetadata = {
      app: options.app,
      command: plan.app.command,
      workload: plan.load?.command ?? null,
      app_version: appVersion,
      wrapp_version: VERSION,
      bpftrace_version: options.bpftrace.version,
      kernel: Deno.osRelease(),
      arch: this.#arch,
      host: Deno.hostname(),
      start: new Date(startTime).toISOString(),
      end: new Date(endTime).toISOString(),
      duration_s: Math.round(endTime - startTime) / 1000,
      events: this.#sinks!.traceEvents,
      lost_events: summary?.lostEvents ?? 0,
      syscalls: summary?.calls ?? 0,
      syscall_errors: summary?.errors ?? 0,
      slow_syscalls: trace.slowCallsDrawn + trace.slowCallsNotDrawn,
      anomalies: summary?.anomalyCount ?? 0,
      processes: processes.length,
      // Threads from the kernel's counts: exact, even for those too short-lived to sample.
      threads: new Set(summary?.rows.map((row) => row.tid) ?? []).size,
      exit_status: exitStatusJson(appExit?.status),
      workload_exit_status: exitStatusJson(run.load?.exited()?.status),
      stopped_by: stoppedBy,
      problem: problem?.message ?? null,
    };
    await writeRecordingFiles({
      dir,
      metadata,
      summary,
      processes,
      trace,
      results,
      ...(opened.newOutDir ? { newOutDir: options.outDir } : {}),
      env: options.env,
    });
    const exitCode = problem
      ? problem.exitCode
      : !plan.load && stoppedBy === "exit" && appExit
      ? shellExitCode(appExit.status)
      : 0;
    return { dir, name, metadata, results, exitCode, ...(problem ? { error: problem } : {}) };
  }

  /** The `exit` status event, then every event delivered and the sinks closed. */
  async #closeSinks(summary: TraceSummary | undefined, end: {
    endTime: number;
    appExit: ExitStatus | undefined;
    dir: string;
    stoppedBy: StoppedBy;
    problem: WrappError | undefined;
  }): Promise<void> {
    const { endTime, appExit, dir } = end;
    const options = this.#options;
    this.#sinks!.emit({
      kind: "status",
      time: endTime,
      phase: "exit",
      message: `recorded ${options.app}: ${summary?.calls ?? 0} syscalls, ${
        summary?.anomalyCount ?? 0
      } anomalies`,
      fields: {
        ...summaryStatusFields(summary),
        stopped_by: end.stoppedBy,
        ...(appExit?.code !== undefined ? { exit_code: appExit.code } : {}),
        ...(appExit?.signal !== undefined ? { signal: appExit.signal } : {}),
        ...(end.problem ? { problem: end.problem.message } : {}),
        dir,
      },
    });
    const sinkProblem = await this.#sinks!.close();
    if (sinkProblem) options.notice(`wrapp record: ${sinkProblem}`);
    for (const log of this.#logs) await log.close();
  }

  #tef(events: readonly TefObject[]): void {
    this.#sinks?.tef(events);
  }
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
