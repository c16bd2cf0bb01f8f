/**
 * `wrapp run`: start the service, frame its output into events, forward signals,
 * and report the run's start and end to every sink.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { now, type StatusEvent } from "../event.ts";
import { type DebugLog, silentDebug } from "../debug.ts";
import { Router } from "../router.ts";
import type { Sink } from "../sinks/sink.ts";
import { TraceEventFileSink } from "../sinks/trace_event_file.ts";
import { newRunId, prepareRunDir } from "../tef/run_dir.ts";
import { MarkerExtractor } from "../transforms/extract_markers.ts";
import { spawnChild } from "../sources/child_process.ts";
import { VERSION } from "../version.ts";
import { type ByteWriter, Echo } from "./echo.ts";
import { OutputPipeline, pumpOutput } from "./output_pipeline.ts";
import { currentUserName, planUserSwitch } from "./run_as_user.ts";
import {
  describeExit,
  type ExitStatus,
  FORWARDED_SIGNALS,
  shellExitCode,
  STOP_SIGNALS,
} from "./signals.ts";

/** Options for {@linkcode runService}. */
export interface RunServiceOptions {
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /** Where echoed stdout goes. Default `Deno.stdout`. */
  stdout?: ByteWriter;
  /** Where echoed stderr and wrapp's own notices go. Default `Deno.stderr`. */
  stderr?: ByteWriter;
  /** Extra sinks besides the configured ones (tests pass a MemorySink). */
  extraSinks?: Sink[];
  /** How often open multi-line blocks are checked against their time limit, ms. Default 100. */
  tickMs?: number;
  /** How long to keep reading output after the child exited, for grandchildren holding the pipes, ms. Default 2000. */
  drainMs?: number;
}

/** What a finished run reports. */
export interface RunResult {
  /** The exit code wrapp should end with: the child's, or 128 + signal. */
  exitCode: number;
  /** How the child ended. */
  status: ExitStatus;
  /** The run's id. */
  runId: string;
  /** The assembled trace.json, when the local sink was on. */
  tracePath?: string;
}

/** Supervise one run of the configured service until it exits; every sink is flushed before this resolves. */
export async function runService(
  config: Config,
  options: RunServiceOptions = {},
): Promise<RunResult> {
  const debug = options.debug ?? silentDebug;
  const stderr = options.stderr ?? Deno.stderr;
  const notice = (text: string) => stderr.write(new TextEncoder().encode(`wrapp: ${text}\n`));
  const { app, output } = config;
  const runId = newRunId();
  const host = Deno.hostname();

  const userSwitch = await planUserSwitch(app);
  const runUser = userSwitch?.account.name ?? await currentUserName();

  const sinks: Sink[] = [...(options.extraSinks ?? [])];
  let traceSink: TraceEventFileSink | undefined;
  if (config.local.enabled) {
    const runDir = await prepareRunDir(config.local.dir, runId, {
      keepRuns: config.local.keepRuns,
    });
    traceSink = await TraceEventFileSink.open({
      runDir,
      processName: app.streamName,
      pid: Deno.pid,
      runId,
    });
    sinks.push(traceSink);
    await notice(`trace of "${app.streamName}" run ${runId} in ${runDir}`);
  }
  const router = new Router(sinks, { debug });
  const status = (phase: StatusEvent["phase"], message: string, fields: StatusEvent["fields"]) =>
    router.emit({ kind: "status", phase, message, fields, time: now() });

  const command = [app.resolvedExecutable, ...app.args];
  debug(`command: ${JSON.stringify(command)} in ${app.cwd} as ${runUser}`);
  let child;
  try {
    child = spawnChild({
      executable: app.resolvedExecutable,
      args: app.args,
      cwd: app.cwd,
      env: { ...app.env, ...userSwitch?.env },
      clearEnv: !app.inheritEnv,
      prefix: userSwitch?.prefix,
    });
  } catch (error) {
    status("exit", `could not start ${app.streamName}: ${(error as Error).message}`, {
      run: runId,
    });
    await router.close();
    throw error;
  }
  const startedAt = now();
  debug(`started pid ${child.pid}`);
  status("start", `started ${app.streamName} (pid ${child.pid})`, {
    run: runId,
    pid: child.pid,
    command: command.join(" "),
    user: runUser,
    host,
    version: VERSION,
    cwd: app.cwd,
  });

  // Signals: forward to the child's process group; a stop signal also arms the SIGKILL timer.
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => {
      const delivered = child.signalGroup(signal);
      debug(`received ${signal}; forwarded to process group ${child.pid}: ${delivered}`);
      status("info", `forwarded ${signal} to ${app.streamName} (pid ${child.pid})`, {
        run: runId,
        signal,
      });
      if (STOP_SIGNALS.includes(signal) && killTimer === undefined) {
        killTimer = setTimeout(() => {
          if (child.signalGroup("SIGKILL")) {
            debug(`grace period of ${app.stopGraceMs} ms over; sent SIGKILL`);
            status(
              "warning",
              `${app.streamName} did not stop within ${app.stopGraceMs} ms; sent SIGKILL`,
              {
                run: runId,
                grace_ms: app.stopGraceMs,
              },
            );
          }
        }, app.stopGraceMs);
      }
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });

  const markers = output.markers ? new MarkerExtractor() : undefined;
  const pipelines = (["stdout", "stderr"] as const).map((stream) =>
    new OutputPipeline(stream, { output, target: router, markers })
  );
  const ticker = setInterval(() => pipelines.forEach((p) => p.tick()), options.tickMs ?? 100);
  const echoes = output.echo
    ? [new Echo(options.stdout ?? Deno.stdout), new Echo(stderr)]
    : [undefined, undefined];
  const stopReading = new AbortController();
  const backpressure = () => router.waitForCapacity();
  const pumps = Promise.all(
    [0, 1].map((i) =>
      pumpOutput([child.stdout, child.stderr][i], pipelines[i], {
        echo: echoes[i],
        stop: stopReading.signal,
        backpressure,
      })
    ),
  );

  const exit = await child.status;
  const endedAt = now();
  debug(`pid ${child.pid} ended with ${describeExit(exit)}`);
  // A grandchild may keep the pipes open; read what it still writes for a moment, then stop.
  const drain = setTimeout(() => stopReading.abort(), options.drainMs ?? 2000);
  await pumps;
  clearTimeout(drain);
  clearInterval(ticker);
  clearTimeout(killTimer);
  for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);

  const exitCode = shellExitCode(exit);
  const durationMs = Math.round(endedAt - startedAt);
  status("exit", `${app.streamName} ended with ${describeExit(exit)} after ${durationMs} ms`, {
    run: runId,
    pid: child.pid,
    ...(exit.signal !== undefined ? { signal: exit.signal } : { exit_code: exit.code ?? 0 }),
    shell_exit_code: exitCode,
    duration_ms: durationMs,
    stdout_lines: pipelines[0].lines,
    stderr_lines: pipelines[1].lines,
  });
  for (const echo of echoes) {
    if (echo?.broken) debug(`echo stopped: ${echo.broken}`);
  }
  await router.close();
  for (const [name, stats] of Object.entries(router.stats())) {
    debug(`sink ${name}: ${JSON.stringify(stats)}`);
  }
  if (traceSink) await notice(`trace written to ${traceSink.tracePath}`);
  return { exitCode, status: exit, runId, tracePath: traceSink?.tracePath };
}
