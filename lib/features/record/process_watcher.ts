/**
 * Samples a traced process tree from /proc while `wrapp record` runs: which processes
 * exist (and when they started and ended), their threads' names, their titles and their
 * memory (`smaps_rollup`, as `wrapp memprof` reports it). Each sample turns into trace
 * events through a {@linkcode RecordingTrace}.
 *
 * Sampling, not eBPF: a process's start comes from `/proc/<pid>/stat` (10 ms
 * resolution), its end is when a sample first finds it gone or a zombie (within one
 * interval), and memory is a point every interval. The root process's own start and end
 * are exact: the recorder knows them.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import { readProcessMemory } from "../../core/smaps_rollup.ts";
import { CLOCK_TICKS_PER_SECOND } from "../../core/proc_stat.ts";
import {
  bootTimeMs,
  readChildren,
  readProcessTitle,
  readProcStat,
  readThreads,
  settledTitle,
} from "./process_tree.ts";
import type { RecordingTrace, TefObject } from "./recording_trace.ts";

/** Default time between samples, ms. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 250;

/** Samples during which a new process's title is read again (servers retitle after fork). */
const _TITLE_SAMPLES = 8;

/** Options for {@linkcode ProcessWatcher}. */
export interface ProcessWatcherOptions {
  /** The root of the tree (the recorded application). */
  rootPid: number;
  /** When the root started (exec), ms since the epoch. */
  rootStartTime: number;
  /** Turns what is seen into events. */
  trace: RecordingTrace;
  /** Receives the events of each sample. */
  emit: (events: TefObject[]) => void;
  /** Time between samples, ms. Default 250. */
  intervalMs?: number;
  /** Where /proc is. Default `/proc`. */
  procDir?: string;
}

/** What was seen of one process. */
export interface ProcessSeen {
  pid: number;
  title: string;
  /** ms since the epoch. */
  startTime?: number;
  /** When it was first found gone, ms since the epoch. */
  endTime?: number;
  /** Largest RSS sampled, kB. */
  peakRssKb: number;
  /** The threads it had, by tid. */
  threads: number;
}

interface _Tracked extends ProcessSeen {
  titleSamples: number;
  titles: string[];
  tids: Set<number>;
}

/** Samples a process tree every `intervalMs` until stopped. */
export class ProcessWatcher {
  readonly #options: ProcessWatcherOptions;
  readonly #procDir: string;
  readonly #tracked = new Map<number, _Tracked>();
  #bootTime: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  // Set once the app is being stopped: titles it sets on its way out ("worker process is
  // shutting down") are not its titles.
  #titlesKept = false;

  /** The RSS of every live process of the tree at the last sample, kB. */
  rssKb = 0;

  /** Start sampling `options.rootPid` (a first sample at once). */
  constructor(options: ProcessWatcherOptions) {
    this.#options = options;
    this.#procDir = options.procDir ?? "/proc";
    this.#tracked.set(options.rootPid, {
      pid: options.rootPid,
      title: String(options.rootPid),
      startTime: options.rootStartTime,
      peakRssKb: 0,
      threads: 0,
      titleSamples: 0,
      titles: [],
      tids: new Set(),
    });
    this.#schedule(0);
  }

  /** Every process seen so far, the root first. */
  get processes(): ProcessSeen[] {
    return [...this.#tracked.values()].map((
      { titleSamples: _, titles: __, tids: ___, ...seen },
    ) => ({
      ...seen,
    }));
  }

  /** The app is being stopped: keep the titles read so far, and read no more of them. */
  keepTitles(): void {
    this.#titlesKept = true;
  }

  /** Stop sampling (after the sample in progress, if any). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One sample (exposed for tests). */
  async sample(): Promise<void> {
    const events: TefObject[] = [];
    const time = now();
    this.#bootTime ??= await bootTimeMs(this.#procDir).catch(() => undefined);
    let rss = 0;
    // Breadth-first from the root: new children join the walk as they are found.
    const queue = [...this.#tracked.values()].filter((p) => p.endTime === undefined);
    for (let i = 0; i < queue.length; i++) {
      const process = queue[i];
      const stat = await readProcStat(process.pid, this.#procDir);
      if (!stat || stat.state === "Z" || stat.state === "X") {
        process.endTime = time;
        if (process.pid !== this.#options.rootPid) {
          events.push(
            ...this.#options.trace.processExited(process.pid, time, {
              end: `first seen gone by a /proc sample (every ${this.#interval} ms)`,
            }),
          );
        }
        continue;
      }
      if (!this.#titlesKept && process.titleSamples < _TITLE_SAMPLES) {
        process.titleSamples++;
        const title = await readProcessTitle(process.pid, this.#procDir) ?? stat.comm;
        if (process.titles.at(-1) !== title) process.titles.push(title);
        process.title = settledTitle(process.titles);
        events.push(...this.#options.trace.process(process.pid, process.title, process.startTime));
      }
      const threads = await readThreads(process.pid, this.#procDir);
      for (const [tid, name] of threads) {
        process.tids.add(tid);
        events.push(...this.#options.trace.thread(process.pid, tid, name));
      }
      process.threads = process.tids.size;
      const memory = await readProcessMemory(process.pid, this.#procDir);
      if (memory) {
        rss += memory.rssKb;
        process.peakRssKb = Math.max(process.peakRssKb, memory.rssKb);
        events.push(...this.#options.trace.memory(process.pid, time, memory));
      }
      for (const child of await readChildren(process.pid, this.#procDir)) {
        if (this.#tracked.has(child)) continue;
        const childStat = await readProcStat(child, this.#procDir);
        const startTime = childStat && this.#bootTime !== undefined
          ? this.#bootTime + (childStat.startTicks * 1000) / CLOCK_TICKS_PER_SECOND
          : undefined;
        const tracked: _Tracked = {
          pid: child,
          title: childStat?.comm ?? String(child),
          startTime,
          peakRssKb: 0,
          threads: 0,
          titleSamples: 0,
          titles: [],
          tids: new Set(),
        };
        this.#tracked.set(child, tracked);
        queue.push(tracked);
      }
    }
    this.rssKb = rss;
    if (events.length > 0) this.#options.emit(events);
  }

  get #interval(): number {
    return this.#options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#running = this.sample().catch(() => {}).finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule(this.#interval);
      });
    }, delayMs);
  }
}
