/**
 * What the runs of one supervision share, set up once per `wrapp run` before the first
 * start: the user to run as, the core limit, gdbserver, the notify socket, the sinks and
 * their router, marker extraction, the limits.
 *
 * @module
 */

import type { ExitStatus } from "../../core/signals.ts";
import { currentUserName, planUserSwitch, type UserSwitch } from "../../core/run_as_user.ts";
import type { Router } from "../../pipeline/router.ts";
import type { Sink } from "../../pipeline/sinks/sink.ts";
import type { RedisPool } from "../../pipeline/sinks/redis_pool.ts";
import { openPipeline, type Pipeline } from "../../pipeline/open_pipeline.ts";
import {
  DEFAULT_MAX_MARKER_NAMES,
  MarkerExtractor,
} from "../../pipeline/transforms/extract_markers.ts";
import type { Echo } from "./echo.ts";
import { type CoreLimitPlan, coreLimitPrefix } from "./crash/core_limit.ts";
import type { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import type { HangAlarm, ServiceWatchdog } from "./watchdog/service_watchdog.ts";
import { type LimitsPlan, planLimits } from "./service_cgroup.ts";
import { announceLimits } from "./run_limits.ts";
import { openServiceWatchdog } from "./service_notify.ts";
import { discardSpawned, type SpawnedRun, spawnHeldEarly } from "./spawn_run.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** What every run of one supervision shares. */
export interface RunSetup {
  /** The switch to `[app] user`, if any. */
  userSwitch?: UserSwitch;
  /** Who the service runs as. */
  runUser: string;
  /** Marker extraction, when `[output] markers` is on (totals live across runs). */
  markers?: MarkerExtractor;
  /** The core limit's prlimit prefix, for `[crash] core_dumps`. */
  corePlan?: CoreLimitPlan;
  /** gdbserver's path, under `[debug]`. */
  gdbserver?: string;
  /** The eBPF crash watcher. */
  crashWatcher?: Promise<EbpfCrashWatcher>;
  /** How `[limits]` are enforced. */
  limits?: LimitsPlan;
  /** The notify socket and hang detection of `[watchdog]`. */
  watchdog?: ServiceWatchdog;
  /** Where the run's events go. */
  router: Router;
  /** The echo of stdout and stderr, when `[output] echo` is on. */
  echoes: readonly [Echo | undefined, Echo | undefined];
  /** How long to read after the main process exited, ms. */
  drainMs: number;
  /** Send a signal the way the supervisor does (to its current run). */
  signal: (signal: Deno.Signal) => void;
}

/** How a run ended. */
export interface RunOutcome {
  /** How the main process ended. */
  exit: ExitStatus;
  /** When it ended, ms since the epoch. */
  endedAt: number;
  /** Why the watchdog stopped it, when it did. */
  hung?: string;
}

/** What {@linkcode prepareRuns} needs from the supervisor. */
export interface PrepareRunsOptions {
  /** The eBPF crash watcher, already starting. */
  crashWatcher?: Promise<EbpfCrashWatcher>;
  /** The echo of stdout and stderr. */
  echoes: readonly [Echo, Echo];
  /** Extra sinks besides the configured ones. */
  extraSinks?: Sink[];
  /** Redis connections shared with the other services of a group. */
  redisPool?: RedisPool;
  /** The pid of the latest run, written in every Redis entry. */
  lastPid: () => number;
  /** How long to read after the main process exited, ms. */
  drainMs: number;
  /** The watchdog fired. */
  onHang: (alarm: HangAlarm) => void;
  /** The notify socket is bound (before the sinks open). */
  onWatchdog: (watchdog: ServiceWatchdog | undefined) => void;
  /** The router is there: status events can go out. */
  onRouter: (router: Router) => void;
  /** Send a signal to the current run. */
  signal: (signal: Deno.Signal) => void;
  /** Called after each batch of events went to the sinks. */
  onDeliver?: () => void;
}

/**
 * Set up what every run shares; the sinks' pipeline is the caller's to close, and so is
 * `first`, the first run's child when it was spawned early (see {@linkcode spawnHeldEarly}):
 * pass it to the first run, or {@linkcode discardSpawned} it.
 */
export async function prepareRuns(
  context: SupervisionContext,
  options: PrepareRunsOptions,
): Promise<{ setup: RunSetup; pipeline: Pipeline; first?: SpawnedRun }> {
  const { config } = context;
  // Before anything starts: [debug] without gdbserver is an error, not a run without it.
  const gdbserver = config.debug
    ? await (await import("./service_debug.ts")).findGdbserver()
    : undefined;
  const userSwitch = await planUserSwitch(config.app);
  const runUser = userSwitch?.account.name ?? await currentUserName();
  const corePlan = config.crash.enabled && config.crash.coreDumps
    ? await coreLimitPrefix()
    : undefined;
  if (corePlan?.warning) await context.notice(corePlan.warning);
  // Before the sinks: a socket that cannot be made stops wrapp before anything is open.
  const watchdog = await openServiceWatchdog(context, userSwitch, options.onHang);
  options.onWatchdog(watchdog);
  const limitsPlan = config.limits && planLimits(config.limits);
  const first = spawnHeldEarly(context, {
    userSwitch,
    runUser,
    corePlan,
    gdbserver,
    crashWatcher: options.crashWatcher,
    limits: limitsPlan,
    watchdog,
  });
  let pipeline: Pipeline;
  try {
    pipeline = await _openPipeline(context, options);
  } catch (error) {
    if (first) await discardSpawned(first);
    throw error;
  }
  options.onRouter(pipeline.router);
  const markers = _markerExtractor(context);
  const limits = limitsPlan && announceLimits(context, limitsPlan);
  const setup: RunSetup = {
    userSwitch,
    runUser,
    markers,
    corePlan,
    gdbserver,
    crashWatcher: options.crashWatcher,
    limits,
    watchdog,
    router: pipeline.router,
    echoes: config.output.echo ? options.echoes : [undefined, undefined],
    drainMs: options.drainMs,
    signal: options.signal,
  };
  return { setup, pipeline, first };
}

/** The sinks of `[redis]`, `[local]` and the extra ones, and the router to them. */
function _openPipeline(
  context: SupervisionContext,
  options: PrepareRunsOptions,
): Promise<Pipeline> {
  const { app, redis, local, output } = context.config;
  const { runId } = context;
  return openPipeline({
    redis: redis && {
      fromConfig: {
        config: redis,
        streamName: app.streamName,
        runId,
        pid: options.lastPid,
        removeMarkers: output.markers,
        pool: options.redisPool,
      },
    },
    trace: local.enabled
      ? { dir: local.dir, keepRuns: local.keepRuns, processName: app.streamName, runId }
      : undefined,
    extraSinks: options.extraSinks,
    debug: context.debug,
    notice: (text) => void context.notice(text),
    onDeliver: options.onDeliver,
  });
}

/** `[output] markers`: the go layout's consumers read DB 2 as the Go wrapp wrote it, in its grammar. */
function _markerExtractor(context: SupervisionContext): MarkerExtractor | undefined {
  const { config } = context;
  if (!config.output.markers) return undefined;
  return new MarkerExtractor({
    grammar: config.redis?.layout === "go" ? "go" : "wrapp",
    onFirstForget: () => {
      const message =
        `more than ${DEFAULT_MAX_MARKER_NAMES} distinct marker names: the running totals of the least recently used are forgotten (such a counter starts again from 1)`;
      context.status("warning", message, {
        run: context.runId,
        max_marker_names: DEFAULT_MAX_MARKER_NAMES,
      });
      void context.notice(message);
    },
  });
}
