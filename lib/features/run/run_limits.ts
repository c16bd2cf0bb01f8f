/**
 * `[limits]` in a supervised run: say how they are enforced, put each run in its cgroup
 * (or watch its RSS), report an OOM kill, and sample the metrics (which the RSS watch
 * reads).
 *
 * @module
 */

import type { ExitStatus } from "../../core/signals.ts";
import { describeSize } from "../../core/config/parse_size.ts";
import type { Router } from "../../pipeline/router.ts";
import { MetricsSampler } from "./metrics_sampler.ts";
import { type LimitsPlan, ServiceCgroup } from "./service_cgroup.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** How one run is limited: in its cgroup, or by wrapp watching its RSS. */
export interface RunLimit {
  /** The run's cgroup. */
  cgroup?: ServiceCgroup;
  /** Stop the run over this RSS, bytes. */
  rssLimit?: number;
}

/** Say how `[limits]` will be enforced (and what will not be), once per `wrapp run`. */
export function announceLimits(context: SupervisionContext, plan: LimitsPlan): LimitsPlan {
  const { config, runId } = context;
  const { memoryMaxBytes, cpuMaxPercent } = config.limits ?? {};
  const what = [
    ...(memoryMaxBytes !== undefined ? [`memory_max ${describeSize(memoryMaxBytes)}`] : []),
    ...(cpuMaxPercent !== undefined ? [`cpu_max ${cpuMaxPercent}%`] : []),
  ].join(", ");
  const how = plan.method === "cgroup"
    ? "enforced by the kernel in a cgroup of the service's own"
    : plan.method === "rss"
    ? `memory_max checked against the RSS every ${config.metrics.everyMs} ms`
    : "not enforced";
  const message = `limits ${what}: ${how}, because ${plan.reason}`;
  context.status(plan.method === "none" ? "warning" : "info", message, {
    run: runId,
    limits_method: plan.method,
  });
  void context.notice(message);
  if (plan.unenforced && plan.method !== "none") {
    context.status("warning", plan.unenforced, { run: runId });
    void context.notice(plan.unenforced);
  }
  return plan;
}

/**
 * Put the held child in a cgroup with the limits, when the plan says so. When that fails
 * (or the child was not held), this run falls back to watching the RSS, and says why.
 */
export function limitRun(
  context: SupervisionContext,
  pid: number,
  held: boolean,
  plan: LimitsPlan | undefined,
): RunLimit {
  const { limits, app } = context.config;
  if (!plan || !limits || plan.method === "none") return {};
  if (plan.method === "rss") return { rssLimit: limits.memoryMaxBytes };
  // It ended before its exec (nothing to limit), or a hold never stopped: watch its RSS then.
  if (!held) return { rssLimit: limits.memoryMaxBytes };
  let cgroup: ServiceCgroup | undefined;
  try {
    cgroup = ServiceCgroup.create(plan.layout!, app.streamName, limits);
    cgroup.addProcess(pid);
    context.debug(`pid ${pid} in cgroup ${cgroup.folders.join(", ")}`);
    return { cgroup };
  } catch (error) {
    void cgroup?.remove(0);
    const fallback = limits.memoryMaxBytes === undefined
      ? ""
      : ": wrapp watches its RSS against memory_max instead";
    const message = `${
      (error as Error).message
    }; this run of ${app.streamName} is not in a cgroup${fallback}`;
    context.status("warning", message, { run: context.runId, pid });
    void context.notice(message);
    return { rssLimit: limits.memoryMaxBytes };
  }
}

/**
 * After a run in a cgroup: when the kernel's OOM killer killed any of it, a status
 * entry that says so with the peak; returns the fields for the exit status.
 */
export function reportOom(
  context: SupervisionContext,
  cgroup: ServiceCgroup | undefined,
  exit: ExitStatus,
  peakRss: number | undefined,
): Record<string, string | number> | undefined {
  const limit = context.config.limits?.memoryMaxBytes;
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
  const { streamName } = context.config.app;
  const message = exit.signal === "SIGKILL"
    ? `Killed by the kernel's OOM killer: ${what}`
    : `The kernel's OOM killer killed ${oomKills} process${
      oomKills === 1 ? "" : "es"
    } of ${streamName}: ${what}`;
  context.status("warning", message, {
    run: context.runId,
    limit: "memory_max",
    memory_max_bytes: limit,
    oom_kills: oomKills,
    ...(peak === undefined ? {} : { peak_bytes: peak }),
  });
  void context.notice(message);
  return { ...fields, limit_exceeded: "memory_max", oom_kills: oomKills };
}

/** The sampler of one run, and whether it found the run over its RSS limit. */
export interface RunSampler {
  /** The sampler, when `[metrics]` or an RSS limit wants one. */
  sampler?: MetricsSampler;
  /** Whether the run went over its RSS limit (and was stopped). */
  readonly overLimit: boolean;
}

/**
 * Sample the run while it runs (`[metrics]`), and stop it over its RSS limit like PM2's
 * max_memory_restart: `stop` is called once; `[restart]` decides what comes next.
 */
export function startRunSampler(
  context: SupervisionContext,
  pid: number,
  options: { router: Router; rssLimit?: number; stop: () => void },
): RunSampler {
  const { metrics } = context.config;
  const { rssLimit } = options;
  const state: { sampler?: MetricsSampler; overLimit: boolean } = { overLimit: false };
  if (!metrics.enabled && rssLimit === undefined) return state;
  state.sampler = MetricsSampler.start(pid, {
    everyMs: metrics.everyMs,
    // A silent service is sampled less often, unless an RSS limit needs every sample.
    maxQuietMs: rssLimit === undefined ? 8 * metrics.everyMs : metrics.everyMs,
    emit: metrics.enabled ? (events) => options.router.emitAll(events) : undefined,
    onSample: rssLimit === undefined ? undefined : (sample) => {
      if (state.overLimit || sample.rssBytes <= rssLimit) return;
      state.overLimit = true;
      const peak = Math.max(sample.rssBytes, state.sampler?.peaks.rssBytes ?? 0);
      const message = `Stopped by wrapp: RSS ${describeSize(sample.rssBytes)} over memory_max ${
        describeSize(rssLimit)
      } (peak ${describeSize(peak)})`;
      context.status("warning", message, {
        run: context.runId,
        pid,
        limit: "memory_max",
        memory_max_bytes: rssLimit,
        rss_bytes: sample.rssBytes,
        peak_bytes: peak,
      });
      void context.notice(message);
      options.stop();
    },
  });
  return state;
}
