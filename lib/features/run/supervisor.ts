/**
 * `wrapp run`: start the service, frame its output into events, forward signals,
 * restart it by policy, and report every start and end to every sink.
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import { now, type StatusEvent } from "../../core/event.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import type { Router } from "../../pipeline/router.ts";
import type { Sink } from "../../pipeline/sinks/sink.ts";
import { openPipeline } from "../../pipeline/open_pipeline.ts";
import type { RedisPool } from "../../pipeline/sinks/redis_pool.ts";
import type { RedisControl } from "../../pipeline/sources/redis_control.ts";
import { newRunId } from "../../pipeline/tef/run_dir.ts";
import {
  DEFAULT_MAX_MARKER_NAMES,
  MarkerExtractor,
} from "../../pipeline/transforms/extract_markers.ts";
import { type RunningChild, spawnChild } from "../../pipeline/sources/child_process.ts";
import { HOLD_BEFORE_EXEC, waitUntilStopped } from "../../pipeline/sources/spawn_stopped.ts";
import { VERSION } from "../../core/version.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import { type ByteWriter, Echo, type EchoDrops, isDevNull } from "./echo.ts";
import { LinePrefixWriter } from "./line_prefix_writer.ts";
import { OutputPipeline, pumpOutput } from "../../pipeline/sources/output_pipeline.ts";
import { RestartPolicy } from "./restart_policy.ts";
// Loaded when needed (a crash, [debug], the crash watcher, the local trace): what a run
// imports statically it pays for at every start and keeps in memory all day.
import type { ServiceDebug } from "./service_debug.ts";
import type { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import { type CoreLimitPlan, coreLimitPrefix, readCoreLimit } from "./crash/core_limit.ts";
import { currentUserName, planUserSwitch, type UserSwitch } from "../../core/run_as_user.ts";
import { processGroupMembers } from "./process_group.ts";
import type { LastExit, ServiceSnapshot } from "./service_snapshot.ts";
import type { HangAlarm, NotifyNews, ServiceWatchdog } from "./watchdog/service_watchdog.ts";
import { MetricsSampler, peakFields } from "./metrics_sampler.ts";
import { type LimitsPlan, planLimits, ServiceCgroup } from "./service_cgroup.ts";
import { describeSize } from "../../core/config/parse_size.ts";
import {
  describeExit,
  type ExitStatus,
  FORWARDED_SIGNALS,
  shellExitCode,
  STOP_SIGNALS,
} from "../../core/signals.ts";

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /** Where echoed stdout goes. Default `Deno.stdout`. */
  stdout?: ByteWriter;
  /** Where echoed stderr and wrapp's own notices go. Default `Deno.stderr`. */
  stderr?: ByteWriter;
  /** Extra sinks besides the configured ones (tests pass a MemorySink). */
  extraSinks?: Sink[];
  /**
   * How long to keep reading output after the child exited, for grandchildren holding the
   * pipes, ms; what is left of its process group then is ended (SIGTERM, SIGKILL after
   * `stop_grace`). Default 2000.
   */
  drainMs?: number;
  /** Longest wait for a stuck reader of wrapp's stdout/stderr at exit, ms; the rest of the echo is dropped. Default 2000. */
  echoFlushMs?: number;
  /** Install listeners for the signals wrapp forwards. Default `true`; a group of services has one set for all, calling {@linkcode Supervisor.forward}. */
  handleSignals?: boolean;
  /** Write this before every echoed line and every notice (`"robot | "`), for services sharing one journal. Default: none, output echoed as it comes. */
  echoPrefix?: string;
  /** The eBPF crash watcher, shared by a group of services (its owner stops it). Default: the supervisor starts its own when `[crash]` asks for one. */
  crashWatcher?: Promise<EbpfCrashWatcher>;
  /** Redis connections shared with the other services of a group. Default: the sink's own. */
  redisPool?: RedisPool;
}

/** What a finished supervision reports. */
export interface RunResult {
  /** The exit code wrapp should end with: the last child's, or 128 + signal; non-zero when it gave up restarting. */
  exitCode: number;
  /** How the last child ended. */
  status: ExitStatus;
  /** The session's id (one per `wrapp run`, shared by restarts). */
  runId: string;
  /** How many times the service was restarted. */
  restarts: number;
  /** The assembled trace.json, when the local sink was on. */
  tracePath?: string;
}

/** Options for {@linkcode runService}; the same as the supervisor's. */
export type RunServiceOptions = SupervisorOptions;

/** Supervise the configured service until it exits for good; every sink is flushed before this resolves. */
export function runService(config: Config, options: RunServiceOptions = {}): Promise<RunResult> {
  return new Supervisor(config, options).run();
}

/** One supervised service: its sinks, its current child, its restart state. */
export class Supervisor {
  readonly #config: Config;
  readonly #options: SupervisorOptions;
  readonly #debug: DebugLog;
  // Echo and notices never wait for their reader (see Echo); they live across restarts so
  // the output of consecutive runs stays in order.
  readonly #echoTargets: ByteWriter[];
  readonly #stdoutEcho: Echo;
  readonly #stderrEcho: Echo;
  readonly runId: string = newRunId();
  #router: Router | undefined;
  // The crash watcher this supervisor started itself (not a group's).
  #ownCrashWatcher: Promise<EbpfCrashWatcher> | undefined;
  #child: RunningChild | undefined;
  // The pid of the latest run: lines the router delivers after the child exited are still its.
  #lastPid = 0;
  #stopping = false;
  #restartRequested = false;
  #wake: (() => void) | undefined;
  #killTimer: LongTimer | undefined;
  #killDeadline = 0;
  #killSent = false;
  #restarts = 0;
  #finishing = false;
  #debugSession: ServiceDebug | undefined;
  #holdingForDebugger = false;
  #signalAfterHold: Deno.Signal | undefined;
  // For `wrapp ps` (snapshot()): read only when asked, kept on paths that run anyway.
  #runStartedAt: number | undefined;
  #lastExit: LastExit | undefined;
  #pipelines: readonly OutputPipeline[] = [];
  #linesBefore = 0;
  #ended = false;
  #watchdog: ServiceWatchdog | undefined;
  // Why the watchdog stopped the current run, once it did.
  #hung: string | undefined;

  /** A supervisor for `config`. Nothing starts before {@linkcode Supervisor.run}. */
  constructor(config: Config, options: SupervisorOptions = {}) {
    this.#config = config;
    this.#options = options;
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
  }

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times the service was restarted so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The service as `wrapp ps` shows it: state, pid, current run, restarts, last exit, lines. */
  snapshot(): ServiceSnapshot {
    // The child until its output is read; the run is over from its exit.
    const child = this.#lastExit && this.#lastExit.at >= (this.#runStartedAt ?? 0)
      ? undefined
      : this.#child;
    let lines = this.#linesBefore;
    for (const pipeline of this.#pipelines) lines += pipeline.lines;
    const state = this.#ended
      ? "exited"
      : child
      ? (this.#stopping || this.#restartRequested || this.#killTimer !== undefined
        ? "stopping"
        : "running")
      : this.#lastExit
      ? "restarting"
      : "starting";
    return {
      name: this.#config.app.streamName,
      config: this.#config.file,
      state,
      ...(child ? { pid: child.pid, startedAt: Math.round(this.#runStartedAt ?? 0) } : {}),
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
      return await this.#run();
    } finally {
      // #run stops it; this is for a start that failed before its loop (idempotent).
      await this.#ownCrashWatcher?.then((watcher) => watcher.stop(), () => {});
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

  async #run(): Promise<RunResult> {
    const { app } = this.#config;
    // Under [debug] gdb sees every signal first; the watcher's stop at exec would be in its way.
    const wantsWatcher = this.#config.crash.enabled && this.#config.crash.ebpfBacktrace &&
      !this.#config.debug;
    // One watcher for every run, so a restart waits for no program to load: it watches each
    // start of the service when wrapp resumes it (root only; otherwise it only says why not).
    // Started first: its code (30–40 ms of module loading) and programs (10–30 ms) load
    // while the sinks open, not while the service is held before its exec. run() stops it
    // also when what follows throws.
    const crashWatcher = wantsWatcher
      ? this.#options.crashWatcher ??
        (this.#ownCrashWatcher = import("./crash/ebpf_backtrace.ts").then((
          { EbpfCrashWatcher },
        ) =>
          EbpfCrashWatcher.start({
            supervisorPid: Deno.pid,
            debug: this.#debug,
            notice: (text) => void this.#notice(text),
          })
        ))
      : undefined;
    this.#ownCrashWatcher?.catch(() => {}); // a failure is reported where it is awaited
    // Before anything starts: [debug] without gdbserver is an error, not a run without it.
    const gdbserver = this.#config.debug
      ? await (await import("./service_debug.ts")).findGdbserver()
      : undefined;
    const userSwitch = await planUserSwitch(app);
    const runUser = userSwitch?.account.name ?? await currentUserName();
    const corePlan = this.#config.crash.enabled && this.#config.crash.coreDumps
      ? await coreLimitPrefix()
      : undefined;
    if (corePlan?.warning) await this.#notice(corePlan.warning);
    // Before the sinks: a socket that cannot be made stops wrapp before anything is open.
    const watchdog = this.#watchdog = await this.#openWatchdog(userSwitch);
    const { router, traceSink } = await openPipeline({
      redis: this.#config.redis && {
        fromConfig: {
          config: this.#config.redis,
          streamName: app.streamName,
          runId: this.runId,
          pid: () => this.#lastPid,
          removeMarkers: this.#config.output.markers,
          pool: this.#options.redisPool,
        },
      },
      trace: this.#config.local.enabled
        ? {
          dir: this.#config.local.dir,
          keepRuns: this.#config.local.keepRuns,
          processName: app.streamName,
          runId: this.runId,
        }
        : undefined,
      extraSinks: this.#options.extraSinks,
      debug: this.#debug,
      notice: (text) => void this.#notice(text),
    });
    this.#router = router;
    // The go layout's consumers read DB 2 as the Go wrapp wrote it: its marker grammar.
    const grammar = this.#config.redis?.layout === "go" ? "go" : "wrapp";
    const markers = this.#config.output.markers
      ? new MarkerExtractor({
        grammar,
        onFirstForget: () => {
          const message =
            `more than ${DEFAULT_MAX_MARKER_NAMES} distinct marker names: the running totals of the least recently used are forgotten (such a counter starts again from 1)`;
          this.#status("warning", message, {
            run: this.runId,
            max_marker_names: DEFAULT_MAX_MARKER_NAMES,
          });
          void this.#notice(message);
        },
      })
      : undefined;
    const limits = this.#config.limits && this.#announceLimits(planLimits(this.#config.limits));
    const policy = new RestartPolicy(this.#config.restart);
    const handlers = this.#options.handleSignals === false ? [] : this.#installSignalHandlers();
    const control = await this.#startControl();

    let exit: ExitStatus = { code: 0 };
    let exitCode = 0;
    const flushMs = this.#options.echoFlushMs ?? 2000;
    try {
      while (true) {
        if (this.#stopping) break; // stopped before it started (a group's SIGTERM during setup)
        const startedAt = now();
        const run = await this.#runOnce({
          userSwitch,
          runUser,
          markers,
          corePlan,
          gdbserver,
          crashWatcher,
          limits,
        });
        exit = run.exit;
        exitCode = shellExitCode(exit);
        if (run.hung !== undefined && exitCode === 0) exitCode = 1; // a hang is a failure
        if (this.#stopping) break;
        const uptimeMs = run.endedAt - startedAt;
        if (this.#restartRequested) {
          this.#restartRequested = false;
          this.#announceRestart(
            `restart requested; ${describeExit(exit)}`,
            0,
            this.#restarts + 1,
            now(),
          );
          continue;
        }
        const decision = policy.decide(exit, uptimeMs, run.endedAt, { hung: run.hung });
        if (decision.action === "exit") {
          this.#debug(`not restarting: ${decision.reason}`);
          if (decision.gaveUp) {
            this.#status("warning", `${app.streamName} ${decision.reason}`, {
              run: this.runId,
              restarts: this.#restarts,
            });
            await this.#notice(`${app.streamName} ${decision.reason}`);
            if (exitCode === 0) exitCode = 1;
          }
          break;
        }
        // The delay counts from the exit: reading the last output and the crash report
        // take part of it, rather than adding to it.
        const restartAt = run.endedAt + decision.delayMs;
        this.#announceRestart(decision.reason, decision.delayMs, decision.attempt, restartAt);
        await this.#sleep(Math.max(0, restartAt - now()));
        if (this.#stopping) break;
      }
    } finally {
      this.#ended = true;
      // The handlers stay until the sinks are closed: a second SIGTERM during the last
      // delivery (bounded, see RedisSink.close) must not kill wrapp and lose the exit code.
      this.#finishing = true;
      this.#reportEchoDrops("stdout", await this.#stdoutEcho.close(flushMs));
      this.#reportEchoDrops("stderr", this.#stderrEcho.drops);
      if (markers?.forgotten) {
        this.#status("info", `${markers.forgotten} marker totals were forgotten to bound memory`, {
          run: this.runId,
          forgotten_marker_totals: markers.forgotten,
        });
      }
      await control?.close();
      await watchdog?.close();
      if (!this.#options.crashWatcher) await (await crashWatcher)?.stop();
      this.#killTimer?.clear();
      await router.close();
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
      for (const [name, stats] of Object.entries(router.stats())) {
        this.#debug(`sink ${name}: ${JSON.stringify(stats)}`);
      }
    }
    if (traceSink) await this.#notice(`trace written to ${traceSink.tracePath}`);
    return {
      exitCode,
      status: exit,
      runId: this.runId,
      restarts: this.#restarts,
      tracePath: traceSink?.tracePath,
    };
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
    if (this.#child) {
      this.#restartRequested = true;
      this.signal("SIGTERM");
    } else {
      this.#wake?.(); // waiting out a backoff: start now
    }
  }

  /** Send `signal` to the service's process group; SIGTERM/SIGINT arm the SIGKILL timer. */
  signal(signal: Deno.Signal): boolean {
    const child = this.#child;
    if (!child) return false;
    if (this.#holdingForDebugger) {
      // gdbserver is taking it through its exec: a signal now would stop it for that
      // tracer and be lost. It goes once the session is set up.
      this.#signalAfterHold = signal;
      this.#debug(`${signal} waits until gdbserver holds pid ${child.pid}`);
      return true;
    }
    // Stopping it is no hang.
    if (STOP_SIGNALS.includes(signal)) this.#watchdog?.halt();
    // Queued while the service is held: it acts on it as soon as gdbserver lets it go.
    const delivered = child.signalGroup(signal);
    this.#debug(`sent ${signal} to process group ${child.pid}: ${delivered}`);
    const detached = this.#debugSession?.beforeSignal(signal);
    if (detached) {
      // A stop its dying tracer took would be lost with it: send it again once it is gone.
      void detached.then(() => child.signalGroup(signal));
    }
    if (delivered && STOP_SIGNALS.includes(signal) && this.#killTimer === undefined) {
      const graceMs = this.#config.app.stopGraceMs;
      this.#killDeadline = performance.now() + graceMs;
      this.#killSent = false;
      this.#killTimer = setLongTimeout(() => this.#killGroup(child), graceMs);
    }
    return delivered;
  }

  /** The grace period is over: SIGKILL the whole group, once per stop. */
  #killGroup(child: RunningChild): void {
    if (this.#killSent) return;
    this.#killSent = true;
    const graceMs = this.#config.app.stopGraceMs;
    this.#debugSession?.beforeSignal("SIGKILL"); // gdbserver goes first, or it holds the service
    if (child.signalGroup("SIGKILL")) {
      this.#debug(`grace period of ${graceMs} ms over; sent SIGKILL to process group ${child.pid}`);
      this.#status(
        "warning",
        `${this.#config.app.streamName} did not stop within ${graceMs} ms; sent SIGKILL`,
        { run: this.runId, pid: child.pid, grace_ms: graceMs },
      );
    }
  }

  /**
   * A stop is under way and the main process has exited: the processes it started are
   * still in its group and may ignore SIGTERM. Wait for them until the grace period ends,
   * then SIGKILL the group, so none survives a stop or a restart.
   */
  async #reapGroup(child: RunningChild): Promise<void> {
    const wait = () => new Promise((resolve) => setTimeout(resolve, 50));
    let members = await processGroupMembers(child.pid);
    while (members.length > 0 && performance.now() < this.#killDeadline) {
      await wait();
      members = await processGroupMembers(child.pid);
    }
    if (members.length === 0) return;
    this.#debug(`pid ${child.pid} exited; ${members.length} of its group left: ${members}`);
    this.#killGroup(child);
    // SIGKILL takes effect at once, except for a process stuck in the kernel: do not wait forever.
    const until = performance.now() + 5000;
    while (members.length > 0 && performance.now() < until) {
      await wait();
      members = await processGroupMembers(child.pid);
    }
    if (members.length > 0) this.#debug(`process group ${child.pid} still has ${members}`);
  }

  /**
   * The main process has exited. Read what the rest of its process group still writes
   * for up to `drainMs`; then end whatever of the group still runs — SIGTERM, SIGKILL
   * after `stop_grace` — so a supervisor leaves nothing behind (systemd's
   * KillMode=control-group), reading until it is gone. Output of a process that left the
   * group (setsid) is no longer read after that.
   */
  async #drainGroup(
    child: RunningChild,
    pumps: Promise<unknown>,
    stopReading: AbortController,
  ): Promise<void> {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const until = (ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        pumps.then(() => true),
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms)),
      ]).finally(() => clearTimeout(timer));
    };
    const drainMs = this.#options.drainMs ?? 2000;
    const deadline = performance.now() + drainMs;
    let pipesClosed = await until(drainMs);
    let members = await processGroupMembers(child.pid);
    // The pipes closed, but some of the group may still be ending on its own.
    while (members.length > 0 && performance.now() < deadline) {
      await pause(100);
      members = await processGroupMembers(child.pid);
    }
    if (members.length > 0) {
      const { streamName, stopGraceMs } = this.#config.app;
      const fields = {
        run: this.runId,
        pid: child.pid,
        pids: members.join(" "),
        drain_ms: drainMs,
      };
      const what = `${streamName} (pid ${child.pid}) exited, but ${members.length} process${
        members.length === 1 ? "" : "es"
      } of its group (${members.join(", ")}) still ran ${drainMs} ms later`;
      this.#debugSession?.beforeSignal("SIGTERM");
      child.signalGroup("SIGTERM");
      const graceEnd = performance.now() + stopGraceMs;
      while (members.length > 0 && performance.now() < graceEnd) {
        await pause(50);
        members = await processGroupMembers(child.pid);
      }
      if (members.length === 0) {
        this.#status("warning", `${what}: sent SIGTERM to the group`, {
          ...fields,
          signal: "SIGTERM",
        });
      } else {
        child.signalGroup("SIGKILL");
        this.#status(
          "warning",
          `${what}: sent SIGTERM to the group, then SIGKILL after ${stopGraceMs} ms`,
          { ...fields, signal: "SIGKILL", grace_ms: stopGraceMs },
        );
        const killEnd = performance.now() + 5000;
        while (members.length > 0 && performance.now() < killEnd) {
          await pause(50);
          members = await processGroupMembers(child.pid);
        }
      }
      // What they wrote before they died is still in the pipes.
      pipesClosed = await until(200);
    }
    if (!pipesClosed) {
      this.#debug(`pid ${child.pid}: a process outside its group holds its output; stop reading`);
      stopReading.abort();
      await pumps;
    }
  }

  /** Start the child once and supervise it until it exits and its output is read. */
  async #runOnce(
    context: {
      userSwitch?: UserSwitch;
      runUser: string;
      markers?: MarkerExtractor;
      corePlan?: CoreLimitPlan;
      gdbserver?: string;
      crashWatcher?: Promise<EbpfCrashWatcher>;
      limits?: LimitsPlan;
    },
  ): Promise<{ exit: ExitStatus; endedAt: number; hung?: string }> {
    const { app, output } = this.#config;
    const watchdog = this.#watchdog;
    this.#hung = undefined;
    const router = this.#router!;
    const command = [app.resolvedExecutable, ...app.args];
    this.#debug(`command: ${JSON.stringify(command)} in ${app.cwd} as ${context.runUser}`);
    // With eBPF views of the service, it waits just before its exec until they are
    // attached (about a second for bpftrace): its first syscalls and pages are seen too,
    // and the crash watcher watches it from its exec. [debug] takes it from there to
    // its first instruction for gdbserver.
    const { crashWatcher } = context;
    // A cgroup takes it in while it is held, so none of its code runs outside the limits.
    const hold = ((this.#config.trace !== undefined || this.#config.memprof !== undefined ||
      crashWatcher !== undefined) && Deno.uid() === 0) ||
      context.gdbserver !== undefined ||
      context.limits?.method === "cgroup";
    let child: RunningChild;
    try {
      child = spawnChild({
        executable: app.resolvedExecutable,
        args: app.args,
        cwd: app.cwd,
        env: { ...app.env, ...context.userSwitch?.env, ...watchdog?.env() },
        clearEnv: !app.inheritEnv,
        // prlimit outermost: it keeps the pid and execs setpriv, which execs the service.
        prefix: [
          ...context.corePlan?.prefix ?? [],
          ...context.userSwitch?.prefix ?? [],
          ...watchdog?.prefix() ?? [],
          ...(hold ? HOLD_BEFORE_EXEC : []),
        ],
      });
    } catch (error) {
      this.#status("exit", `could not start ${app.streamName}: ${(error as Error).message}`, {
        run: this.runId,
      });
      throw error;
    }
    this.#child = child;
    this.#lastPid = child.pid;
    const startedAt = now();
    this.#runStartedAt = startedAt;
    this.#debug(`started pid ${child.pid}`);
    this.#status("start", `started ${app.streamName} (pid ${child.pid})`, {
      run: this.runId,
      pid: child.pid,
      command: command.join(" "),
      user: context.runUser,
      host: Deno.hostname(),
      version: VERSION,
      cwd: app.cwd,
      restarts: this.#restarts,
    }, startedAt); // the run's slice starts when the run did, so start + duration is its exit

    let held = false;
    if (hold) {
      let exited = false;
      void child.status.then(() => exited = true);
      held = await waitUntilStopped(child.pid, () => exited, 10_000);
    }
    const limited = this.#limitRun(child.pid, held, context.limits);

    // The sidecars' code (tracer, memprof page) is loaded only for a service that has them.
    const trace = this.#config.trace;
    const tracer = trace &&
      import("./service_trace.ts").then(({ startServiceTrace }) =>
        startServiceTrace(trace, child.pid, {
          emit: (event) => router.emit(event),
          notice: (text) => this.#notice(text),
          debug: this.#debug,
        })
      );
    const memprofConfig = this.#config.memprof;
    const memprof = memprofConfig &&
      import("../memprof/mod.ts").then(({ startServiceMemprof }) =>
        startServiceMemprof(memprofConfig, child.pid, {
          router,
          stream: app.streamName,
          command: command.join(" "),
          notice: (text) => this.#notice(text),
          debug: this.#debug,
        })
      );
    if (hold) {
      // The crash watcher must be running by then: it watches the pid from here (bpftrace
      // adopts it at the SIGCONT).
      const [watcher] = await Promise.all([crashWatcher, tracer, memprof]);
      watcher?.watch(child.pid);
      if (held && context.gdbserver) {
        this.#debugSession = await this.#holdForDebugger(child, context.gdbserver);
      } else {
        this.#debug(held ? `attached; resuming pid ${child.pid}` : "the service did not stop");
        child.signalGroup("SIGCONT");
      }
    }

    // Its deadlines count from now, when it runs (no longer held for the tracers).
    watchdog?.begin(child.pid);
    const onLines = watchdog && (() => watchdog.sawOutput());
    // Only while it runs: stopped at its exit, started again with the next run.
    const { metrics } = this.#config;
    const rssLimit = limited.rssLimit;
    let overLimit = false;
    const sampler = metrics.enabled || rssLimit !== undefined
      ? MetricsSampler.start(child.pid, {
        everyMs: metrics.everyMs,
        emit: metrics.enabled ? (events) => router.emitAll(events) : undefined,
        onSample: rssLimit === undefined ? undefined : (sample) => {
          // Like PM2's max_memory_restart: stop it; [restart] decides what comes next.
          if (overLimit || sample.rssBytes <= rssLimit) return;
          overLimit = true;
          const peak = Math.max(sample.rssBytes, sampler?.peaks.rssBytes ?? 0);
          const message = `Stopped by wrapp: RSS ${describeSize(sample.rssBytes)} over memory_max ${
            describeSize(rssLimit)
          } (peak ${describeSize(peak)})`;
          this.#status("warning", message, {
            run: this.runId,
            pid: child.pid,
            limit: "memory_max",
            memory_max_bytes: rssLimit,
            rss_bytes: sample.rssBytes,
            peak_bytes: peak,
          });
          void this.#notice(message);
          this.signal("SIGTERM");
        },
      })
      : undefined;

    const pipelines = (["stdout", "stderr"] as const).map((stream) =>
      new OutputPipeline(stream, { output, target: router, markers: context.markers, onLines })
    );
    this.#pipelines = pipelines;
    const echoes = output.echo ? [this.#stdoutEcho, this.#stderrEcho] : [undefined, undefined];
    const stopReading = new AbortController();
    const backpressure = () => router.waitForCapacity();
    const pumps = Promise.all(
      [child.stdout, child.stderr].map((readable, i) =>
        pumpOutput(readable, pipelines[i], {
          echo: echoes[i],
          stop: stopReading.signal,
          backpressure,
        })
      ),
    );

    const exit = await child.status;
    const endedAt = now();
    this.#lastExit = {
      ...(exit.signal !== undefined ? { signal: exit.signal } : { code: exit.code ?? 0 }),
      at: endedAt,
    };
    watchdog?.end();
    const peaks = sampler?.stop();
    const limitFields = this.#reportOom(limited.cgroup, exit, peaks?.rssBytes) ??
      (overLimit ? { limit_exceeded: "memory_max" } : {});
    await this.#debugSession?.stop(); // gdbserver goes with the service
    this.#debugSession = undefined;
    const serviceTracer = await tracer;
    await serviceTracer?.drained(); // its last calls, still in bpftrace's buffers
    await serviceTracer?.stop(); // emits the run's syscall summary
    await (await memprof)?.stop(describeExit(exit)); // emits the final snapshot
    this.#debug(`pid ${child.pid} ended with ${describeExit(exit)}`);
    if (this.#killTimer !== undefined) await this.#reapGroup(child);
    await this.#drainGroup(child, pumps, stopReading);
    this.#killTimer?.clear();
    this.#killTimer = undefined;
    this.#child = undefined;
    this.#linesBefore += pipelines[0].lines + pipelines[1].lines;
    this.#pipelines = [];
    const leftover = await limited.cgroup?.remove();
    if (leftover) {
      this.#status("warning", leftover, { run: this.runId, pid: child.pid });
      void this.#notice(leftover);
    }
    for (const echo of echoes) {
      if (echo?.broken) this.#debug(`echo stopped: ${echo.broken}`);
    }

    const durationMs = Math.round(endedAt - startedAt);
    // Set by #onHang while this run went on (the type checker still sees the reset above).
    const hung = this.#hung as string | undefined;
    this.#status(
      "exit",
      `${app.streamName} ended with ${describeExit(exit)} after ${durationMs} ms`,
      {
        run: this.runId,
        pid: child.pid,
        ...(exit.signal !== undefined ? { signal: exit.signal } : { exit_code: exit.code ?? 0 }),
        shell_exit_code: shellExitCode(exit),
        duration_ms: durationMs,
        stdout_lines: pipelines[0].lines,
        stderr_lines: pipelines[1].lines,
        ...(hung !== undefined ? { stopped_by: "watchdog", watchdog: hung } : {}),
        ...(peaks && metrics.enabled ? peakFields(peaks) : {}),
        ...limitFields,
      },
    );
    if (
      this.#config.crash.enabled && exit.signal !== undefined &&
      (await import("./crash/crash_report.ts")).isCrashSignal(exit.signal)
    ) {
      // Right away: the core is found by the pattern and limits in force at the crash.
      await this.#reportCrash(child.pid, exit.signal!, { startedAt, endedAt }, {
        ...context,
        watcher: await crashWatcher,
      });
    }
    return { exit, endedAt, hung };
  }

  /** `[watchdog]`: bind the notify socket (owned by the service's user) before the first start. */
  async #openWatchdog(userSwitch: UserSwitch | undefined): Promise<ServiceWatchdog | undefined> {
    const config = this.#config.watchdog;
    if (!config) return undefined;
    const { ServiceWatchdog } = await import("./watchdog/service_watchdog.ts");
    const watchdog = await ServiceWatchdog.open(config, {
      owner: userSwitch ? { uid: userSwitch.account.uid, gid: userSwitch.gid } : undefined,
      onHang: (alarm) => void this.#onHang(alarm),
      onNews: (news) => this.#notifyNews(news),
      debug: this.#debug,
    });
    this.#debug(`notify socket ${watchdog.socketPath}`);
    return watchdog;
  }

  /** What the service said on its notify socket, as status events (STATUS= also lands in the state hash). */
  #notifyNews(news: NotifyNews): void {
    const name = this.#config.app.streamName;
    const fields = { run: this.runId, pid: news.pid };
    switch (news.kind) {
      case "ready":
        this.#status("info", `${name} is ready (READY=1)`, { ...fields, notify: "READY=1" });
        break;
      case "status":
        this.#status("info", `${name} status: ${news.text}`, {
          ...fields,
          notify: "STATUS",
          status_text: news.text,
        });
        break;
      case "stopping":
        this.#status("info", `${name} is stopping (STOPPING=1)`, {
          ...fields,
          notify: "STOPPING=1",
        });
        break;
      case "reloading":
        this.#status("info", `${name} is reloading (RELOADING=1)`, {
          ...fields,
          notify: "RELOADING=1",
        });
        break;
      case "timeout":
        this.#status(
          "info",
          news.timeoutMs === undefined
            ? `${name} turned its watchdog off (WATCHDOG_USEC=0)`
            : `${name} set its watchdog timeout to ${news.timeoutMs} ms (WATCHDOG_USEC)`,
          { ...fields, notify: "WATCHDOG_USEC", watchdog_timeout_ms: news.timeoutMs ?? 0 },
        );
        break;
    }
  }

  /**
   * The watchdog fired: take every thread's backtrace of the live service with gdb, send
   * the report to every sink and a summary to stderr, then stop the service like a stop
   * (SIGTERM, SIGKILL after stop_grace) so [restart] decides what comes next.
   */
  async #onHang(alarm: HangAlarm): Promise<void> {
    const child = this.#child;
    if (!child || child.pid !== alarm.pid || this.#stopping) return;
    const { app, crash } = this.#config;
    const { captureHang, describeHang, hangEvent } = await import("./watchdog/hang_report.ts");
    const info = {
      service: app.streamName,
      pid: alarm.pid,
      executable: app.resolvedExecutable,
      reason: alarm.reason,
      ...(alarm.limitMs !== undefined ? { limitMs: alarm.limitMs } : {}),
      silentMs: alarm.silentMs,
      ...(this.#watchdog?.statusText !== undefined
        ? { statusText: this.#watchdog.statusText }
        : {}),
      time: now(),
    };
    const detail = describeHang(info);
    this.#hung = detail;
    this.#status(
      "warning",
      `${app.streamName} (pid ${alarm.pid}) hung: ${detail}; taking its backtraces with gdb`,
      {
        run: this.runId,
        pid: alarm.pid,
        watchdog: alarm.reason,
      },
    );
    const report = await captureHang(info, {
      gdb: { gdb: crash.gdb, timeoutMs: crash.gdbTimeoutMs },
      debug: this.#debug,
    });
    const event = hangEvent(report);
    this.#router?.emit(event);
    this.#stderrEcho.write(new TextEncoder().encode(`${event.summary}\n`));
    if (this.#child !== child) return; // it ended meanwhile
    this.signal("SIGTERM");
    child.signalGroup("SIGCONT"); // a stopped process acts on SIGTERM only once it runs
  }

  /**
   * [debug]: take the held child to its first instruction, attach gdbserver, and tell
   * stderr and every sink how to connect. When that fails, the child is killed and the
   * error ends the run.
   */
  async #holdForDebugger(
    child: RunningChild,
    gdbserver: string,
  ): Promise<ServiceDebug | undefined> {
    const { app, debug } = this.#config;
    let session: ServiceDebug | undefined;
    this.#holdingForDebugger = true;
    try {
      const { ServiceDebug } = await import("./service_debug.ts");
      session = await ServiceDebug.start(debug!, child.pid, {
        gdbserver,
        name: app.streamName,
        debug: this.#debug,
        onNews: (message, fields) => {
          this.#status("info", message, { run: this.runId, ...fields });
          void this.#notice(message);
        },
      });
    } catch (error) {
      child.signalGroup("SIGKILL");
      await child.status;
      this.#status("exit", `could not debug ${app.streamName}: ${(error as Error).message}`, {
        run: this.runId,
        pid: child.pid,
      });
      throw error;
    } finally {
      this.#holdingForDebugger = false;
    }
    if (!session) return undefined; // it ended before its exec; the exit says why
    this.#debugSession = session;
    const pending = this.#signalAfterHold;
    this.#signalAfterHold = undefined;
    if (pending) this.signal(pending);
    const steps = session.instructions();
    const intro =
      `${app.streamName} (pid ${child.pid}) waits at its first instruction for a debugger; gdbserver listens on ${session.address}`;
    this.#status("info", `${intro}. Connect with: ${steps.join("; ")}`, {
      run: this.runId,
      pid: child.pid,
      gdbserver_pid: session.gdbserverPid,
      debug_address: session.address,
      program: session.program,
    });
    await this.#notice(
      [`${intro}. Connect with:`, ...steps.map((s) => `  ${s}`)].join("\nwrapp: "),
    );
    return session;
  }

  /** Say how `[limits]` will be enforced (and what will not be), once per `wrapp run`. */
  #announceLimits(plan: LimitsPlan): LimitsPlan {
    const { memoryMaxBytes, cpuMaxPercent } = this.#config.limits ?? {};
    const what = [
      ...(memoryMaxBytes !== undefined ? [`memory_max ${describeSize(memoryMaxBytes)}`] : []),
      ...(cpuMaxPercent !== undefined ? [`cpu_max ${cpuMaxPercent}%`] : []),
    ].join(", ");
    const how = plan.method === "cgroup"
      ? "enforced by the kernel in a cgroup of the service's own"
      : plan.method === "rss"
      ? `memory_max checked against the RSS every ${this.#config.metrics.everyMs} ms`
      : "not enforced";
    const message = `limits ${what}: ${how}, because ${plan.reason}`;
    this.#status(plan.method === "none" ? "warning" : "info", message, {
      run: this.runId,
      limits_method: plan.method,
    });
    void this.#notice(message);
    if (plan.unenforced && plan.method !== "none") {
      this.#status("warning", plan.unenforced, { run: this.runId });
      void this.#notice(plan.unenforced);
    }
    return plan;
  }

  /**
   * Put the held child in a cgroup with the limits, when the plan says so. When that fails
   * (or the child was not held), this run falls back to watching the RSS, and says why.
   */
  #limitRun(
    pid: number,
    held: boolean,
    plan: LimitsPlan | undefined,
  ): { cgroup?: ServiceCgroup; rssLimit?: number } {
    const limits = this.#config.limits;
    if (!plan || !limits || plan.method === "none") return {};
    if (plan.method === "rss") return { rssLimit: limits.memoryMaxBytes };
    // It ended before its exec (nothing to limit), or never stopped: watch its RSS then.
    if (!held) return { rssLimit: limits.memoryMaxBytes };
    let cgroup: ServiceCgroup | undefined;
    try {
      cgroup = ServiceCgroup.create(plan.layout!, this.#config.app.streamName, limits);
      cgroup.addProcess(pid);
      this.#debug(`pid ${pid} in cgroup ${cgroup.folders.join(", ")}`);
      return { cgroup };
    } catch (error) {
      void cgroup?.remove(0);
      const fallback = limits.memoryMaxBytes === undefined
        ? ""
        : ": wrapp watches its RSS against memory_max instead";
      const message = `${
        (error as Error).message
      }; this run of ${this.#config.app.streamName} is not in a cgroup${fallback}`;
      this.#status("warning", message, { run: this.runId, pid });
      void this.#notice(message);
      return { rssLimit: limits.memoryMaxBytes };
    }
  }

  /**
   * After a run in a cgroup: when the kernel's OOM killer killed any of it, a status
   * entry that says so with the peak; returns the fields for the exit status.
   */
  #reportOom(
    cgroup: ServiceCgroup | undefined,
    exit: ExitStatus,
    peakRss: number | undefined,
  ): Record<string, string | number> | undefined {
    const limit = this.#config.limits?.memoryMaxBytes;
    if (!cgroup || limit === undefined) return undefined;
    const { oomKills, peakBytes } = cgroup.outcome();
    const fields: Record<string, string | number> = peakBytes === undefined
      ? {}
      : { memory_peak_bytes: peakBytes };
    if (oomKills === 0) return fields;
    const peak = peakBytes ?? (peakRss || undefined);
    const what = `memory_max ${describeSize(limit)} reached (${
      peak === undefined ? "peak not measured" : `peak ${describeSize(peak)}`
    })`;
    const { streamName } = this.#config.app;
    const message = exit.signal === "SIGKILL"
      ? `Killed by the kernel's OOM killer: ${what}`
      : `The kernel's OOM killer killed ${oomKills} process${
        oomKills === 1 ? "" : "es"
      } of ${streamName}: ${what}`;
    this.#status("warning", message, {
      run: this.runId,
      limit: "memory_max",
      memory_max_bytes: limit,
      oom_kills: oomKills,
      ...(peak === undefined ? {} : { peak_bytes: peak }),
    });
    void this.#notice(message);
    return { ...fields, limit_exceeded: "memory_max", oom_kills: oomKills };
  }

  /** Find the core, run gdb, and send the crash report to every sink and a summary to stderr. */
  async #reportCrash(
    pid: number,
    signal: string,
    times: { startedAt: number; endedAt: number },
    context: { userSwitch?: UserSwitch; corePlan?: CoreLimitPlan; watcher?: EbpfCrashWatcher },
  ): Promise<void> {
    const { app, crash } = this.#config;
    this.#debug(`pid ${pid} died from ${signal}: capturing a crash report`);
    const { captureCrash, crashEvent } = await import("./crash/crash_report.ts");
    const report = await captureCrash({
      pid,
      uid: context.userSwitch?.account.uid ?? Deno.uid() ?? undefined,
      gid: context.userSwitch?.gid ?? Deno.gid() ?? undefined,
      executable: app.resolvedExecutable,
      cwd: app.cwd,
      signal,
      crashTime: times.endedAt,
      startTime: times.startedAt,
      coreLimit: context.corePlan?.limit.soft ?? (await readCoreLimit()).soft,
      service: app.streamName,
    }, {
      core: { timeoutMs: crash.coreTimeoutMs, debug: this.#debug },
      gdb: { gdb: crash.gdb, timeoutMs: crash.gdbTimeoutMs },
      fallback: context.watcher?.fallback(),
      debug: this.#debug,
    });
    const event = crashEvent(report);
    this.#router?.emit(event);
    // The summary starts with "wrapp: " already.
    this.#stderrEcho.write(new TextEncoder().encode(`${event.summary}\n`));
  }

  /** Follow the Redis control stream, when Redis is configured and reachable. */
  async #startControl(): Promise<RedisControl | undefined> {
    const { redis, app } = this.#config;
    if (!redis) return undefined;
    const { RedisControl } = await import("../../pipeline/sources/redis_control.ts");
    const key = `wrapp:${app.streamName}:control`;
    const ack = (entry: { id: string; text: string }, message: string, accepted: boolean) =>
      this.#status(accepted ? "info" : "warning", message, {
        run: this.runId,
        control_id: entry.id,
        command: entry.text,
        accepted,
      });
    return new RedisControl(redis, {
      db: redis.dbState,
      key,
      name: `wrapp:${app.streamName}`,
      debug: this.#debug,
      onCommand: (command, entry) => {
        ack(entry, `control: ${entry.text} (entry ${entry.id})`, true);
        if (command.kind === "restart") this.restart();
        else if (command.kind === "stop") this.stop();
        else this.signal(command.signal);
      },
      onReject: (reason, entry) =>
        ack(entry, `control: rejected "${entry.text}" (entry ${entry.id}): ${reason}`, false),
    });
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

  #installSignalHandlers(): Array<readonly [Deno.Signal, () => void]> {
    return FORWARDED_SIGNALS.map((signal) => {
      const handler = () => this.forward(signal);
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
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
    const pid = this.#child?.pid;
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
      const timer = setLongTimeout(done, ms);
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
