/**
 * `wrapp run`: start the service, frame its output into events, forward signals,
 * restart it by policy, and report every start and end to every sink.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { now, type StatusEvent } from "../event.ts";
import { type DebugLog, silentDebug } from "../debug.ts";
import { Router } from "../router.ts";
import type { Sink } from "../sinks/sink.ts";
import { TraceEventFileSink } from "../sinks/trace_event_file.ts";
import type { RedisControl } from "../sources/redis_control.ts";
import { newRunId, prepareRunDir } from "../tef/run_dir.ts";
import { MarkerExtractor } from "../transforms/extract_markers.ts";
import { type RunningChild, spawnChild } from "../sources/child_process.ts";
import { HOLD_BEFORE_EXEC, waitUntilStopped } from "../sources/spawn_stopped.ts";
import { VERSION } from "../version.ts";
import { type ByteWriter, Echo } from "./echo.ts";
import { OutputPipeline, pumpOutput } from "./output_pipeline.ts";
import { RestartPolicy } from "./restart_policy.ts";
import { captureCrash, crashEvent, isCrashSignal } from "../crash/crash_report.ts";
import { EbpfCrashWatcher } from "../crash/ebpf_backtrace.ts";
import { type CoreLimitPlan, coreLimitPrefix, readCoreLimit } from "../crash/core_limit.ts";
import { currentUserName, planUserSwitch, type UserSwitch } from "./run_as_user.ts";
import {
  describeExit,
  type ExitStatus,
  FORWARDED_SIGNALS,
  shellExitCode,
  STOP_SIGNALS,
} from "./signals.ts";

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
  /** How long to keep reading output after the child exited, for grandchildren holding the pipes, ms. Default 2000. */
  drainMs?: number;
  /** Install listeners for the signals wrapp forwards. Default `true`. */
  handleSignals?: boolean;
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
  readonly #stderr: ByteWriter;
  readonly runId: string = newRunId();
  #router: Router | undefined;
  #child: RunningChild | undefined;
  #stopping = false;
  #restartRequested = false;
  #wake: (() => void) | undefined;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #restarts = 0;

  /** A supervisor for `config`. Nothing starts before {@linkcode Supervisor.run}. */
  constructor(config: Config, options: SupervisorOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
    this.#stderr = options.stderr ?? Deno.stderr;
  }

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times the service was restarted so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Run the service, restarting it by policy, until it ends for good or is stopped. */
  async run(): Promise<RunResult> {
    const { app } = this.#config;
    const userSwitch = await planUserSwitch(app);
    const runUser = userSwitch?.account.name ?? await currentUserName();
    const corePlan = this.#config.crash.enabled && this.#config.crash.coreDumps
      ? await coreLimitPrefix()
      : undefined;
    if (corePlan?.warning) await this.#notice(corePlan.warning);
    const { sinks, traceSink } = await this.#openSinks();
    const router = this.#router = new Router(sinks, { debug: this.#debug });
    const markers = this.#config.output.markers ? new MarkerExtractor() : undefined;
    const policy = new RestartPolicy(this.#config.restart);
    const handlers = this.#options.handleSignals === false ? [] : this.#installSignalHandlers();
    const control = await this.#startControl();

    let exit: ExitStatus = { code: 0 };
    let exitCode = 0;
    try {
      while (true) {
        const startedAt = now();
        exit = await this.#runOnce({ userSwitch, runUser, markers, corePlan });
        exitCode = shellExitCode(exit);
        if (this.#stopping) break;
        const uptimeMs = now() - startedAt;
        if (this.#restartRequested) {
          this.#restartRequested = false;
          this.#announceRestart(`restart requested; ${describeExit(exit)}`, 0, this.#restarts + 1);
          continue;
        }
        const decision = policy.decide(exit, uptimeMs, now());
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
        this.#announceRestart(decision.reason, decision.delayMs, decision.attempt);
        await this.#sleep(decision.delayMs);
        if (this.#stopping) break;
      }
    } finally {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
      await control?.close();
      clearTimeout(this.#killTimer);
      await router.close();
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
    const delivered = child.signalGroup(signal);
    this.#debug(`sent ${signal} to process group ${child.pid}: ${delivered}`);
    if (delivered && STOP_SIGNALS.includes(signal) && this.#killTimer === undefined) {
      const graceMs = this.#config.app.stopGraceMs;
      this.#killTimer = setTimeout(() => {
        if (child.signalGroup("SIGKILL")) {
          this.#debug(`grace period of ${graceMs} ms over; sent SIGKILL`);
          this.#status(
            "warning",
            `${this.#config.app.streamName} did not stop within ${graceMs} ms; sent SIGKILL`,
            { run: this.runId, pid: child.pid, grace_ms: graceMs },
          );
        }
      }, graceMs);
    }
    return delivered;
  }

  async #openSinks(): Promise<{ sinks: Sink[]; traceSink?: TraceEventFileSink }> {
    const { app, local, redis } = this.#config;
    const sinks: Sink[] = [...(this.#options.extraSinks ?? [])];
    if (redis) {
      // Loaded only with [redis]: the Redis client and the Node APIs under it cost ~23 MiB.
      const { RedisSink } = await import("../sinks/redis.ts");
      // Never throws for an unreachable Redis: the sink starts spooling and the service starts.
      const sink = await RedisSink.connect({
        host: redis.host,
        port: redis.port,
        tls: redis.tls,
        username: redis.username,
        password: redis.password,
        streamName: app.streamName,
        runId: this.runId,
        hostname: Deno.hostname(),
        pid: () => this.#child?.pid ?? 0,
        dbs: { logs: redis.dbLogs, values: redis.dbValues, state: redis.dbState },
        maxLen: redis.maxLen,
        healthIntervalMs: redis.healthIntervalMs,
        memoryQueueEvents: redis.memoryQueue,
        spoolDir: redis.spoolDir,
        spoolMaxBytes: redis.spoolMaxBytes,
        policy: redis.policy,
        onStatus: (event) => void this.#notice(event.message),
        debug: this.#debug,
      });
      sinks.push(sink);
      const problem = await sink.healthCheck();
      await this.#notice(
        `streaming "${app.streamName}" to Redis at ${sink.address}${
          problem ? ` (${problem}; events wait in the spool)` : ""
        }`,
      );
    }
    if (!local.enabled) return { sinks };
    const runDir = await prepareRunDir(local.dir, this.runId, { keepRuns: local.keepRuns });
    const traceSink = await TraceEventFileSink.open({
      runDir,
      processName: app.streamName,
      pid: Deno.pid,
      runId: this.runId,
    });
    sinks.push(traceSink);
    await this.#notice(`trace of "${app.streamName}" run ${this.runId} in ${runDir}`);
    return { sinks, traceSink };
  }

  /** Start the child once and supervise it until it exits and its output is read. */
  async #runOnce(
    context: {
      userSwitch?: UserSwitch;
      runUser: string;
      markers?: MarkerExtractor;
      corePlan?: CoreLimitPlan;
    },
  ): Promise<ExitStatus> {
    const { app, output } = this.#config;
    const router = this.#router!;
    const command = [app.resolvedExecutable, ...app.args];
    this.#debug(`command: ${JSON.stringify(command)} in ${app.cwd} as ${context.runUser}`);
    // With eBPF views of the service, it waits just before its exec until they are
    // attached (about a second for bpftrace): its first syscalls and pages are seen too.
    const hold = (this.#config.trace !== undefined || this.#config.memprof !== undefined) &&
      Deno.uid() === 0;
    let child: RunningChild;
    try {
      child = spawnChild({
        executable: app.resolvedExecutable,
        args: app.args,
        cwd: app.cwd,
        env: { ...app.env, ...context.userSwitch?.env },
        clearEnv: !app.inheritEnv,
        // prlimit outermost: it keeps the pid and execs setpriv, which execs the service.
        prefix: [
          ...context.corePlan?.prefix ?? [],
          ...context.userSwitch?.prefix ?? [],
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
    const startedAt = now();
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
    });

    let held = false;
    if (hold) {
      let exited = false;
      void child.status.then(() => exited = true);
      held = await waitUntilStopped(child.pid, () => exited, 10_000);
    }

    // Watches for the fatal signal so a crash without a core still has a backtrace (root only).
    const crashWatcher = this.#config.crash.enabled && this.#config.crash.ebpfBacktrace
      ? EbpfCrashWatcher.start({ pid: child.pid, debug: this.#debug })
      : undefined;
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
      import("./service_memprof.ts").then(({ startServiceMemprof }) =>
        startServiceMemprof(memprofConfig, child.pid, {
          router,
          stream: app.streamName,
          command: command.join(" "),
          notice: (text) => this.#notice(text),
          debug: this.#debug,
        })
      );
    if (hold) {
      await Promise.all([crashWatcher, tracer, memprof]);
      this.#debug(held ? `attached; resuming pid ${child.pid}` : "the service did not stop");
      child.signalGroup("SIGCONT");
    }

    const pipelines = (["stdout", "stderr"] as const).map((stream) =>
      new OutputPipeline(stream, { output, target: router, markers: context.markers })
    );
    const echoes = output.echo
      ? [new Echo(this.#options.stdout ?? Deno.stdout), new Echo(this.#stderr)]
      : [undefined, undefined];
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
    const serviceTracer = await tracer;
    await serviceTracer?.drained(); // its last calls, still in bpftrace's buffers
    await serviceTracer?.stop(); // emits the run's syscall summary
    await (await memprof)?.stop(describeExit(exit)); // emits the final snapshot
    this.#debug(`pid ${child.pid} ended with ${describeExit(exit)}`);
    // A grandchild may keep the pipes open; read what it still writes for a moment, then stop.
    const drain = setTimeout(() => stopReading.abort(), this.#options.drainMs ?? 2000);
    await pumps;
    clearTimeout(drain);
    clearTimeout(this.#killTimer);
    this.#killTimer = undefined;
    this.#child = undefined;
    for (const echo of echoes) {
      if (echo?.broken) this.#debug(`echo stopped: ${echo.broken}`);
    }

    const durationMs = Math.round(endedAt - startedAt);
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
      },
    );
    const watcher = await crashWatcher;
    if (this.#config.crash.enabled && isCrashSignal(exit.signal)) {
      // Right away: the core is found by the pattern and limits in force at the crash.
      await this.#reportCrash(child.pid, exit.signal!, { startedAt, endedAt }, {
        ...context,
        watcher,
      });
    }
    await watcher?.stop();
    return exit;
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
    await this.#stderr.write(new TextEncoder().encode(`${event.summary}\n`));
  }

  /** Follow the Redis control stream, when Redis is configured and reachable. */
  async #startControl(): Promise<RedisControl | undefined> {
    const { redis, app } = this.#config;
    if (!redis) return undefined;
    const { RedisControl } = await import("../sources/redis_control.ts");
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

  #announceRestart(reason: string, delayMs: number, attempt: number): void {
    this.#restarts = attempt;
    const { streamName } = this.#config.app;
    const message = `restarting ${streamName} in ${delayMs} ms (attempt ${attempt}): ${reason}`;
    this.#debug(message);
    this.#status("restart", message, { run: this.runId, attempt, delay_ms: delayMs, reason });
  }

  #installSignalHandlers(): Array<readonly [Deno.Signal, () => void]> {
    return FORWARDED_SIGNALS.map((signal) => {
      const handler = () => {
        const pid = this.#child?.pid;
        this.#debug(`received ${signal}`);
        this.#status("info", `forwarded ${signal} to ${this.#config.app.streamName} (pid ${pid})`, {
          run: this.runId,
          signal,
          ...(pid === undefined ? {} : { pid }),
        });
        if (STOP_SIGNALS.includes(signal)) this.stop(signal);
        else this.signal(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  #status(phase: StatusEvent["phase"], message: string, fields: StatusEvent["fields"]): void {
    this.#router?.emit({ kind: "status", phase, message, fields, time: now() });
  }

  #notice(text: string): Promise<number> {
    return this.#stderr.write(new TextEncoder().encode(`wrapp: ${text}\n`));
  }
}
