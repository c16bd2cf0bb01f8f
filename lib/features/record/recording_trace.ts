/**
 * The Trace Event Format events of a `wrapp record` trace, beyond what the trace sink
 * writes by itself (the recording's run slice and status track on wrapp's own process):
 *
 * - each traced process is a process in Perfetto, named after its title (`redis-server
 *   127.0.0.1:6379`, `postgres: checkpointer`), with a `lifetime` async slice from its
 *   start to its exit, and each of its threads a track named after the thread;
 * - every syscall at or above the floor is an `X` slice on its thread's track, named after
 *   the syscall; an anomaly is named `<syscall> (anomaly)` and says why in its args;
 * - syscall rates per thread are counters of the thread's process (`syscalls/s by
 *   thread <name> <tid>`), memory (`memory kB rss|anon|file`) a counter per process;
 * - the recording's phases (setup, start, workload, stop) are slices on a `phases` track
 *   of wrapp's process.
 *
 * The class keeps only the state that needs: names already written, open lifetimes, the
 * end of each thread's last slice (slices on a track must never overlap), and the slow
 * calls of the current second, held until the tracer has judged them.
 *
 * @module
 */

import type { ProcessMemory } from "../../core/smaps_rollup.ts";
import type { SlowCall } from "../../pipeline/syscalls/tracer_lines.ts";
import type { AnomalyEvent, SyscallEvent } from "../../pipeline/syscalls/syscall_events.ts";
import { tefMicroseconds } from "../../pipeline/syscalls/syscall_events.ts";
import { errnoName, type SyscallArch, syscallName } from "../../pipeline/syscalls/syscall_table.ts";
import { formatDurationNs } from "../../core/parse_duration.ts";
import { SliceTracks } from "../../pipeline/tef/slice_tracks.ts";

/** Thread id of the phases track in wrapp's process (the trace sink uses 1 to 6). */
export const PHASES_TID = 10;

/** Default most slow-call slices drawn in one trace. */
export const DEFAULT_MAX_SLOW_CALLS = 200_000;

/** A TEF event. */
export type TefObject = Record<string, unknown>;

/** Options for {@linkcode RecordingTrace}. */
export interface RecordingTraceOptions {
  /** wrapp's pid: the phases track lives in its process. */
  wrappPid: number;
  /** The traced root process: threads of unknown processes are counted under it (see {@linkcode RecordingTrace.rootPid}). */
  rootPid?: number;
  /** Architecture of the traced processes, for syscall names. */
  arch: SyscallArch;
  /** Most slow-call slices drawn; further ones are only counted. Default 200000. */
  maxSlowCalls?: number;
}

interface _Process {
  title: string;
  /** Start of its open lifetime slice, µs; undefined when none is open. */
  lifetimeStart?: number;
  /** Whether a lifetime slice was ever written. */
  lifetime: boolean;
}

interface _Pending {
  call: SlowCall;
  startTime: number;
  anomaly?: AnomalyEvent;
}

/** Builds the recording's own TEF events; see the module documentation. */
export class RecordingTrace {
  readonly #options: RecordingTraceOptions;
  readonly #maxSlowCalls: number;
  readonly #processes = new Map<number, _Process>();
  /** tid → its process and name. */
  readonly #threads = new Map<number, { pid: number; name: string }>();
  /** Thread names written, by `pid/tid`. */
  readonly #threadNames = new Map<string, string>();
  /** Counter label of each thread (fixed at first use, so the track stays one). */
  readonly #labels = new Map<number, string>();
  /** Threads with calls in the previous interval, so an idle one drops to 0 once. */
  #active = new Set<number>();
  /** End of the last slice on each track, µs. */
  readonly #tracks = new SliceTracks();
  #pending: _Pending[] = [];
  #drawn = 0;
  #notDrawn = 0;
  #swapSeen = new Set<number>();

  /** The traced root process, once started: threads of unknown processes are counted under it. */
  rootPid: number;

  /** Start building events for one recording. */
  constructor(options: RecordingTraceOptions) {
    this.#options = options;
    this.#maxSlowCalls = options.maxSlowCalls ?? DEFAULT_MAX_SLOW_CALLS;
    this.rootPid = options.rootPid ?? 0;
  }

  /** Slow calls drawn as slices so far. */
  get slowCallsDrawn(): number {
    return this.#drawn;
  }

  /** Slow calls left out of the trace once `maxSlowCalls` was reached. */
  get slowCallsNotDrawn(): number {
    return this.#notDrawn;
  }

  /** Thread names seen, by tid (for the summary table). */
  get threadNames(): Record<number, string> {
    return Object.fromEntries([...this.#threads].map(([tid, t]) => [tid, t.name]));
  }

  /** Titles of the processes seen, by pid. */
  get processTitles(): Record<number, string> {
    return Object.fromEntries([...this.#processes].map(([pid, p]) => [pid, p.title]));
  }

  /** The process a thread belongs to, when known. */
  processOf(tid: number): number | undefined {
    return this.#threads.get(tid)?.pid;
  }

  /** Name the phases track of wrapp's process. */
  phasesTrack(): TefObject[] {
    const pid = this.#options.wrappPid;
    return [
      { ph: "M", pid, tid: PHASES_TID, name: "thread_name", args: { name: "phases" } },
      { ph: "M", pid, tid: PHASES_TID, name: "thread_sort_index", args: { sort_index: 0 } },
    ];
  }

  /** A phase of the recording (setup, start, workload, stop) as a slice; times in ms since the epoch. */
  phase(
    name: string,
    startTime: number,
    endTime: number,
    args: Record<string, unknown> = {},
  ): TefObject[] {
    const { ts, dur } = this.#tracks.place(
      "phases",
      tefMicroseconds(startTime),
      Math.max(0, endTime - startTime) * 1e6,
    );
    return [{
      ph: "X",
      ts,
      dur,
      pid: this.#options.wrappPid,
      tid: PHASES_TID,
      name,
      cat: "phase",
      args,
    }];
  }

  /**
   * A traced process seen (again): its name the first time or when its title changed, and
   * the start of its lifetime slice the first time when `startTime` (ms) is known.
   */
  process(pid: number, title: string, startTime?: number): TefObject[] {
    const events: TefObject[] = [];
    let known = this.#processes.get(pid);
    if (!known || known.title !== title) {
      events.push({ ph: "M", pid, name: "process_name", args: { name: title } });
    }
    if (!known) {
      known = { title, lifetime: false };
      this.#processes.set(pid, known);
      if (startTime !== undefined) {
        known.lifetimeStart = tefMicroseconds(startTime);
        known.lifetime = true;
        events.push({
          ph: "b",
          ts: known.lifetimeStart,
          pid,
          tid: pid,
          name: "lifetime",
          cat: "process",
          id: pid,
        });
      }
    }
    known.title = title;
    if (!this.#threads.has(pid)) events.push(...this.thread(pid, pid));
    return events;
  }

  /** The end of a process's lifetime slice (ms), with what is known of its end. */
  processExited(pid: number, time: number, args: Record<string, unknown> = {}): TefObject[] {
    const known = this.#processes.get(pid);
    if (known?.lifetimeStart === undefined) return [];
    const ts = Math.max(tefMicroseconds(time), known.lifetimeStart);
    known.lifetimeStart = undefined;
    return [{ ph: "e", ts, pid, tid: pid, name: "lifetime", cat: "process", id: pid, args }];
  }

  /** A thread seen, with its name: thread metadata when it is new or was renamed. */
  thread(pid: number, tid: number, name?: string): TefObject[] {
    const known = this.#threads.get(tid);
    const threadName = name ?? known?.name ??
      (tid === pid ? this.#processes.get(pid)?.title : undefined);
    if (threadName === undefined) return [];
    this.#threads.set(tid, { pid, name: threadName });
    const key = `${pid}/${tid}`;
    if (this.#threadNames.get(key) === threadName) return [];
    this.#threadNames.set(key, threadName);
    return [{ ph: "M", pid, tid, name: "thread_name", args: { name: threadName } }];
  }

  /** A call at or above the floor; held until {@linkcode RecordingTrace.flush}. */
  slowCall(call: SlowCall, startTime: number): void {
    this.#pending.push({ call, startTime });
  }

  /** Mark the held slow call this anomaly is about, so its slice says so. */
  anomaly(event: AnomalyEvent): void {
    const match = this.#pending.find((p) =>
      p.anomaly === undefined && p.call.tid === event.tid && p.call.nr === event.nr &&
      p.call.latencyNs === event.latencyNs
    );
    if (match) match.anomaly = event;
  }

  /** The held slow calls as slices, oldest first, each thread named the first time. */
  flush(): TefObject[] {
    const pending = this.#pending.sort((a, b) => a.call.startNs - b.call.startNs);
    this.#pending = [];
    const events: TefObject[] = [];
    for (const { call, startTime, anomaly } of pending) {
      if (this.#drawn >= this.#maxSlowCalls) {
        this.#notDrawn++;
        continue;
      }
      this.#drawn++;
      if (!this.#processes.has(call.pid)) events.push(...this.process(call.pid, call.comm));
      // The name the kernel gave at the call beats a /proc sample's: a sample can catch a
      // new thread before it names itself (prctl), and a short-lived one is not seen again.
      const known = this.#threads.get(call.tid);
      if (!known || known.pid !== call.pid || known.name !== call.comm) {
        events.push(...this.thread(call.pid, call.tid, call.comm));
      }
      const { ts, dur } = this.#tracks.place(
        `t${call.tid}`,
        tefMicroseconds(startTime),
        call.latencyNs,
      );
      const name = syscallName(call.nr, this.#options.arch);
      const args: Record<string, unknown> = {
        latency: formatDurationNs(call.latencyNs),
        latency_ns: call.latencyNs,
      };
      if (call.ret < 0) args.errno = errnoName(-call.ret);
      else args.ret = call.ret;
      if (anomaly) {
        args.anomaly = anomaly.reasons.join(",");
        if (anomaly.zScore !== null) args.z_score = Math.round(anomaly.zScore * 100) / 100;
        if (anomaly.meanNs !== null) args.mean = formatDurationNs(anomaly.meanNs);
      }
      events.push({
        ph: "X",
        ts,
        dur,
        pid: call.pid,
        tid: call.tid,
        name: anomaly ? `${name} (anomaly)` : name,
        cat: anomaly ? "anomaly" : "syscall",
        args,
      });
    }
    return events;
  }

  /**
   * An interval of per-thread statistics as counters: calls per second of each thread,
   * one `C` event per process; a thread that went idle gets one 0.
   */
  interval(event: SyscallEvent): TefObject[] {
    if (event.scope !== "interval") return [];
    const seconds = Math.max((event.time - event.startTime) / 1000, 1e-3);
    const calls = new Map<number, number>();
    for (const row of event.rows) {
      if (row.tid === undefined) continue;
      calls.set(row.tid, (calls.get(row.tid) ?? 0) + row.calls);
    }
    const byProcess = new Map<number, Record<string, number>>();
    for (const tid of new Set([...calls.keys(), ...this.#active])) {
      const pid = this.#threads.get(tid)?.pid ?? this.rootPid;
      const args = byProcess.get(pid) ?? {};
      args[this.#label(tid)] = Math.round(((calls.get(tid) ?? 0) / seconds) * 100) / 100;
      byProcess.set(pid, args);
    }
    this.#active = new Set([...calls].filter(([, n]) => n > 0).map(([tid]) => tid));
    const ts = tefMicroseconds(event.time);
    return [...byProcess].map(([pid, args]) => ({
      ph: "C",
      ts,
      pid,
      tid: pid,
      name: "syscalls/s by thread",
      args,
    }));
  }

  /** A memory sample of a process (ms since the epoch): `memory kB` rss, anon, file (and swap once used). */
  memory(pid: number, time: number, memory: ProcessMemory): TefObject[] {
    const args: Record<string, number> = {
      rss: memory.rssKb,
      anon: memory.anonKb,
      file: memory.fileKb,
    };
    if (memory.swapKb > 0) this.#swapSeen.add(pid);
    if (this.#swapSeen.has(pid)) args.swap = memory.swapKb;
    return [{ ph: "C", ts: tefMicroseconds(time), pid, tid: pid, name: "memory kB", args }];
  }

  /** Everything still held or open at the end (ms): the last slices, then the open lifetimes. */
  finish(time: number, args: Record<string, unknown> = {}): TefObject[] {
    const events = this.flush();
    for (const pid of this.#processes.keys()) {
      events.push(...this.processExited(pid, time, args));
    }
    return events;
  }

  #label(tid: number): string {
    const kept = this.#labels.get(tid);
    if (kept !== undefined) return kept;
    const name = this.#threads.get(tid)?.name;
    // Not named yet (an interval can come before the first sample of its process): its
    // series takes the name once known, and keeps it if the thread renames itself.
    if (name === undefined) return `thread ${tid}`;
    const label = `${name} ${tid}`;
    this.#labels.set(tid, label);
    return label;
  }
}
