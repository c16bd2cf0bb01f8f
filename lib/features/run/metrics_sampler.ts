/**
 * `[metrics]`: the resource usage of the running service's process tree, sampled from
 * /proc every `every` ms (./../sources/process_tree_usage.ts), as `metric` events with op
 * `set` — counter tracks in the trace, `SET wrapp:<name>:<metric>` in Redis DB 2:
 *
 * | metric | value |
 * | --- | --- |
 * | `cpu_pct` | CPU time over wall time since the previous sample, % of one core (200 = two cores busy) |
 * | `rss_bytes` | resident memory of every process of the tree |
 * | `pss_bytes` | proportional share of it (shared pages divided among their users); Linux 4.14+ |
 * | `threads` | threads of every process |
 * | `fds` | open file descriptors of every process |
 *
 * One timer, re-armed after each sample, runs from {@linkcode MetricsSampler.start} to
 * {@linkcode MetricsSampler.stop}: only while the service runs, never while it is stopped
 * or waits to restart. The first sample comes 1 s after the start (or `every`, if
 * shorter), so a short run has one too; then one every `every`. While the tree uses no CPU
 * and no value changes, the waits double up to `maxQuietMs` (`wrapp run`: 8 × `every`,
 * unless an RSS limit needs every sample): a silent service wakes wrapp once every 40 s,
 * not 12 times a minute, and each wake-up of cold code cost ~1.7 ms of CPU.
 *
 * A value is emitted when it changed (a counter track and a Redis value both hold the last
 * one); a memory value when it moved by at least {@linkcode MEMORY_STEP_BYTES} or 1 % from
 * the value last emitted — the PSS of an idle process moves by a few kB whenever another
 * process maps the same libraries, and each emission wakes every sink. So an idle service
 * costs one /proc read per interval and nothing downstream.
 *
 * @module
 */

import { type MetricEvent, now } from "../../core/event.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import { CLOCK_TICKS_PER_SECOND } from "../../core/proc_stat.ts";
import { readTreeCpuTicks, readTreeUsage } from "../../pipeline/sources/process_tree_usage.ts";

/** One sample of the service's process tree. */
export interface MetricsSample {
  /** When it was taken, ms since the epoch. */
  time: number;
  /** CPU % since the previous sample (or the start), of one core. */
  cpuPct: number;
  /** Resident memory, bytes. */
  rssBytes: number;
  /** Proportional share of resident memory, bytes, when the kernel has `smaps_rollup`. */
  pssBytes?: number;
  /** Threads. */
  threads: number;
  /** Open file descriptors, when readable. */
  fds?: number;
  /** Processes in the tree. */
  processes: number;
}

/** The highest values of a run, and how many samples they come from. */
export interface MetricsPeaks {
  /** Samples taken. */
  samples: number;
  /** Highest CPU %. */
  cpuPct: number;
  /** Highest RSS, bytes. */
  rssBytes: number;
  /** Highest PSS, bytes, when known. */
  pssBytes?: number;
  /** Most threads. */
  threads: number;
  /** Most open file descriptors, when known. */
  fds?: number;
}

/** Options of {@linkcode MetricsSampler.start}. */
export interface MetricsSamplerOptions {
  /** Time between samples, ms. */
  everyMs: number;
  /** Receives the metric events of a sample (only the values that changed). Default: none (samples only feed `onSample`). */
  emit?: (events: MetricEvent[]) => void;
  /** Called with every sample, e.g. to check a memory limit. */
  onSample?: (sample: MetricsSample) => void;
  /**
   * While the tree is quiet (no CPU used since the last sample, no value emitted), each wait
   * doubles, up to this many ms; any change brings it back to `everyMs`. Default `everyMs`
   * (no back-off): an RSS limit needs every sample.
   */
  maxQuietMs?: number;
  /** Where procfs is mounted. Default `/proc`. */
  procDir?: string;
}

/** A memory value is emitted again when it moved by at least this, or 1 %, from the value last emitted. */
export const MEMORY_STEP_BYTES = 256 * 1024;

/** The first sample comes this long after the start, at most, ms. */
export const FIRST_SAMPLE_MS = 1000;

/** The metric names and the sample fields they come from. */
export const METRIC_NAMES = Object.freeze(
  {
    cpu_pct: "cpuPct",
    rss_bytes: "rssBytes",
    pss_bytes: "pssBytes",
    threads: "threads",
    fds: "fds",
  } as const,
);

/** Samples one service's process tree while it runs. */
export class MetricsSampler {
  readonly #pid: number;
  readonly #options: MetricsSamplerOptions;
  #timer: LongTimer | undefined;
  #lastTicks: number;
  #lastTime: number;
  #stopped = false;
  /** The wait before the next sample: `everyMs`, or longer while the tree is quiet. */
  #waitMs: number;
  readonly #emitted = new Map<string, number>();
  #peaks: MetricsPeaks = { samples: 0, cpuPct: 0, rssBytes: 0, threads: 0 };

  private constructor(pid: number, options: MetricsSamplerOptions, baselineTicks = 0) {
    this.#pid = pid;
    this.#options = options;
    this.#lastTicks = baselineTicks;
    this.#lastTime = performance.now();
    this.#waitMs = options.everyMs;
  }

  /**
   * Start sampling `pid`'s tree: the CPU time it has used so far is the baseline, the
   * first sample comes `everyMs` later.
   */
  static start(pid: number, options: MetricsSamplerOptions): MetricsSampler {
    // Only the CPU time: the memory and fd reads of a full sample would sit on the start path.
    const baseline = readTreeCpuTicks(pid, { procDir: options.procDir });
    const sampler = new MetricsSampler(pid, options, baseline);
    sampler.#arm(Math.min(FIRST_SAMPLE_MS, options.everyMs));
    return sampler;
  }

  /** How long the timer waits after the last sample, ms: `everyMs`, or more while quiet. */
  get nextWaitMs(): number {
    return this.#waitMs;
  }

  /** The highest values so far. */
  get peaks(): Readonly<MetricsPeaks> {
    return this.#peaks;
  }

  /** Stop sampling (no timer remains); returns the peaks of the run. Idempotent. */
  stop(): Readonly<MetricsPeaks> {
    this.#stopped = true;
    this.#timer?.clear();
    this.#timer = undefined;
    return this.#peaks;
  }

  /** Take a sample now (the timer calls this); undefined once the tree is gone. */
  sample(): MetricsSample | undefined {
    if (this.#stopped) return undefined;
    const tree = readTreeUsage(this.#pid, { procDir: this.#options.procDir });
    const at = performance.now();
    if (!tree) return undefined;
    const seconds = (at - this.#lastTime) / 1000;
    // A process that left the tree takes its CPU time with it: never below zero.
    const ticks = Math.max(0, tree.cpuTicks - this.#lastTicks);
    this.#lastTicks = tree.cpuTicks;
    this.#lastTime = at;
    const cpuPct = seconds > 0
      ? Math.round((ticks / CLOCK_TICKS_PER_SECOND) / seconds * 1000) / 10
      : 0;
    const sample: MetricsSample = {
      time: now(),
      cpuPct,
      rssBytes: tree.rssBytes,
      threads: tree.threads,
      processes: tree.pids.length,
      ...(tree.pssBytes === undefined ? {} : { pssBytes: tree.pssBytes }),
      ...(tree.fds === undefined ? {} : { fds: tree.fds }),
    };
    this.#record(sample);
    this.#options.onSample?.(sample);
    const emitted = this.#emit(sample);
    const { everyMs, maxQuietMs = everyMs } = this.#options;
    const quiet = ticks === 0 && emitted === 0;
    this.#waitMs = quiet ? Math.min(this.#waitMs * 2, Math.max(everyMs, maxQuietMs)) : everyMs;
    return sample;
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setLongTimeout(() => {
      this.#timer = undefined;
      this.sample();
      this.#arm(this.#waitMs);
    }, ms);
  }

  #record(sample: MetricsSample): void {
    const peaks = this.#peaks;
    peaks.samples++;
    peaks.cpuPct = Math.max(peaks.cpuPct, sample.cpuPct);
    peaks.rssBytes = Math.max(peaks.rssBytes, sample.rssBytes);
    peaks.threads = Math.max(peaks.threads, sample.threads);
    if (sample.pssBytes !== undefined) {
      peaks.pssBytes = Math.max(peaks.pssBytes ?? 0, sample.pssBytes);
    }
    if (sample.fds !== undefined) peaks.fds = Math.max(peaks.fds ?? 0, sample.fds);
  }

  /** Emit the values that changed; how many. */
  #emit(sample: MetricsSample): number {
    const emit = this.#options.emit;
    if (!emit) return 0;
    const events: MetricEvent[] = [];
    for (const [name, field] of Object.entries(METRIC_NAMES)) {
      const value = sample[field];
      if (value === undefined || !_changed(name, this.#emitted.get(name), value)) continue;
      this.#emitted.set(name, value);
      events.push({
        kind: "metric",
        time: sample.time,
        name,
        op: "set",
        value: String(value),
        numeric: value,
      });
    }
    if (events.length > 0) emit(events);
    return events.length;
  }
}

/** Whether `value` is worth emitting after `last` (see the module documentation). */
function _changed(name: string, last: number | undefined, value: number): boolean {
  if (last === undefined) return true;
  if (!name.endsWith("_bytes")) return value !== last;
  return Math.abs(value - last) >= Math.max(MEMORY_STEP_BYTES, last / 100);
}

/** The fields the exit status event gets from a run's peaks: `peak_rss_bytes`, … (none without a sample). */
export function peakFields(peaks: Readonly<MetricsPeaks>): Record<string, number> {
  if (peaks.samples === 0) return {};
  const fields: Record<string, number> = {
    peak_cpu_pct: peaks.cpuPct,
    peak_rss_bytes: peaks.rssBytes,
    peak_threads: peaks.threads,
  };
  if (peaks.pssBytes !== undefined) fields.peak_pss_bytes = peaks.pssBytes;
  if (peaks.fds !== undefined) fields.peak_fds = peaks.fds;
  return fields;
}
