/**
 * The `wrapp trace --tui` view's data from a real trace: the eBPF tracer's cumulative maps
 * (printed by bpftrace once a second), its anomalies as they are found, and the traced
 * process's thread count from /proc.
 *
 * @module
 */

import type { SyscallTracer } from "../../pipeline/syscalls/syscall_tracer.ts";
import type { AnomalyEvent, SyscallEvent } from "../../pipeline/syscalls/syscall_events.ts";
import type { SyscallArch } from "../../pipeline/syscalls/syscall_table.ts";
import type { SyscallSnapshot } from "../../pipeline/syscalls/syscall_stats.ts";
import type { TraceFeed, TraceHeader } from "./trace_view_state.ts";
import { readCommandLine } from "../../pipeline/sources/command_line.ts";

/** Anomalies waiting for the view (it takes them every tick; paused, they pile up to this). */
const _MAX_QUEUED = 1000;
/** How often the thread count is read from /proc, ms. */
const _THREADS_EVERY_MS = 500;

/** Options for {@linkcode TracerFeed}. */
export interface TracerFeedOptions {
  arch: SyscallArch;
  /** The traced process, when known before {@linkcode TracerFeed.attach} (--pid). */
  pid: number;
  /** The command line; with --pid, read from /proc when attaching. */
  command: string;
  /** Where the traced command's output goes (launched commands only). */
  outputPath?: string;
  /** e.g. "bpftrace 0.17.0". */
  source: string;
  /** Where proc is mounted. Default `/proc`. */
  procDir?: string;
}

/** Data from a {@linkcode SyscallTracer}, for the view. */
export class TracerFeed implements TraceFeed {
  readonly arch: SyscallArch;
  readonly #options: TracerFeedOptions;
  #tracer: SyscallTracer | undefined;
  #pid: number;
  #command: string;
  #startTime = Date.now();
  #anomalies: AnomalyEvent[] = [];
  #lostEvents = 0;
  #exit: string | undefined;
  #complete = false;
  #threads = 0;
  #threadsReadAt = -Infinity;

  constructor(options: TracerFeedOptions) {
    this.arch = options.arch;
    this.#options = options;
    this.#pid = options.pid;
    this.#command = options.command;
  }

  /** The tracer has attached to `pid`: the view starts counting. */
  async attach(tracer: SyscallTracer, pid: number): Promise<void> {
    this.#tracer = tracer;
    this.#pid = pid;
    if (!this.#command) this.#command = await readCommandLine(pid, this.#options.procDir);
    this.#threadsReadAt = -Infinity;
    this.#startTime = Date.now();
  }

  /** Hand every event the tracer emits here. */
  onEvent(event: SyscallEvent | AnomalyEvent): void {
    if (event.kind === "anomaly") {
      this.#anomalies.push(event);
      if (this.#anomalies.length > _MAX_QUEUED) this.#anomalies.shift();
    } else {
      this.#lostEvents = Math.max(this.#lostEvents, event.lostEvents);
    }
  }

  /** Tracing is over; `exit` says how the process ended, when it did. */
  complete(exit?: string): void {
    this.#complete = true;
    this.#exit = exit;
  }

  header(): TraceHeader {
    return {
      pid: this.#pid,
      command: this.#command,
      threads: this.#threadCount(),
      startTime: this.#startTime,
      lostEvents: this.#lostEvents,
      state: this.#complete ? "complete" : this.#tracer ? "tracing" : "starting",
      ...(this.#exit ? { exit: this.#exit } : {}),
      ...(this.#options.outputPath ? { outputPath: this.#options.outputPath } : {}),
      source: this.#options.source,
      refreshMs: 1000,
    };
  }

  latest(): { snapshot: SyscallSnapshot; time: number } | undefined {
    return this.#tracer?.latest;
  }

  takeAnomalies(): AnomalyEvent[] {
    const taken = this.#anomalies;
    this.#anomalies = [];
    return taken;
  }

  #threadCount(): number {
    if (this.#complete) return 0;
    const now = performance.now();
    if (now - this.#threadsReadAt < _THREADS_EVERY_MS) return this.#threads;
    this.#threadsReadAt = now;
    try {
      let count = 0;
      for (const _ of Deno.readDirSync(`${this.#options.procDir ?? "/proc"}/${this.#pid}/task`)) {
        count++;
      }
      this.#threads = count;
    } catch {
      this.#threads = 0; // gone
    }
    return this.#threads;
  }
}
