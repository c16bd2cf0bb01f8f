/**
 * The events of syscall tracing — `syscall` (statistics) and `anomaly` (one far-too-slow
 * call) — and how they look in a Trace Event Format file.
 *
 * @module
 */

import type { EventBase } from "../../core/event.ts";
import { SliceTracks } from "../tef/slice_tracks.ts";
import { tefMicroseconds } from "../tef/tef_microseconds.ts";

export { tefMicroseconds };

/** Statistics of one syscall (of one thread, in a per-thread summary) over a period. */
export interface SyscallRow {
  /** Syscall name on the traced architecture (`"openat"`), `syscall_<n>` when unknown. */
  readonly name: string;
  /** Syscall number on the traced architecture. */
  readonly nr: number;
  /** Thread id, in per-thread summaries only. */
  readonly tid?: number;
  /** Completed calls (`exit`/`exit_group` are counted on entry, with no latency). */
  readonly calls: number;
  /** Calls that returned an error. */
  readonly errors: number;
  /** Failed calls by errno name: `{ "ENOENT": 3 }`. */
  readonly errnos: Readonly<Record<string, number>>;
  /** Sum of latencies, ns (exact). */
  readonly totalNs: number;
  /** Mean latency, ns (exact). */
  readonly meanNs: number;
  /** Median latency, ns, from the kernel's quarter-octave histogram. */
  readonly p50Ns: number;
  /** 99th percentile latency, ns, from the histogram. */
  readonly p99Ns: number;
  /** Longest call, ns: exact when it was above the floor or alone in its bucket, else its bucket's upper edge. */
  readonly maxNs: number;
}

/** Syscall statistics of a traced process tree: one interval (live) or the whole trace. */
export interface SyscallEvent extends EventBase {
  readonly kind: "syscall";
  /** `interval`: the calls since the previous interval event; `total`: the whole trace so far. */
  readonly scope: "interval" | "total";
  /** The traced process (the root of the followed tree). */
  readonly pid: number;
  /** Start of the period, ms since the Unix epoch. */
  readonly startTime: number;
  /** Calls, errors and latency sum over every row. */
  readonly calls: number;
  readonly errors: number;
  readonly totalNs: number;
  /** One row per syscall (per thread and syscall with --per-thread), most total time first. */
  readonly rows: readonly SyscallRow[];
  /** Events bpftrace reported lost so far (slow-call lines; the counts are never lost). */
  readonly lostEvents: number;
}

/** One syscall far slower than usual. */
export interface AnomalyEvent extends EventBase {
  readonly kind: "anomaly";
  /** Process (thread group) of the thread. */
  readonly pid: number;
  /** Thread that made the call. */
  readonly tid: number;
  /** The thread's name (`comm`). */
  readonly comm: string;
  /** Syscall name and number on the traced architecture. */
  readonly syscall: string;
  readonly nr: number;
  /** When the call started, ms since the Unix epoch (`time` is when it returned). */
  readonly startTime: number;
  /** How long it took, ns. */
  readonly latencyNs: number;
  /** Standard deviations above the mean of the syscall's other calls; null with fewer than 5 of them. */
  readonly zScore: number | null;
  /** Mean and standard deviation of those other calls, ns; null with fewer than 5. */
  readonly meanNs: number | null;
  readonly stddevNs: number | null;
  /** Why it is an anomaly: above the z-score threshold, above the absolute `--slow` bound, or both. */
  readonly reasons: readonly ("zscore" | "slow")[];
  /** The errno name when the call failed. */
  readonly errno?: string;
}

/** Where the syscall summary goes in a trace: wrapp's own process and a track of it. */
export interface SyscallTefTrack {
  pid: number;
  tid: number;
}

/**
 * Turns `syscall` and `anomaly` events into TEF events, keeping the little state that
 * needs: which threads were named already, and where the last slice of each thread ended
 * (kernel times are converted to wall-clock with an offset that can still shrink by a few
 * µs, and slices on one track must never overlap).
 *
 * - an anomaly is an `X` slice named after the syscall on its own thread's track
 *   (pid = the traced process, tid = the thread), with the thread's name at that call in
 *   `args.comm`, preceded by `thread_name` (and `process_name` for a main thread)
 *   metadata the first time and whenever the thread was renamed since its previous
 *   slice (exec, `prctl(PR_SET_NAME)`). Perfetto shows one name per thread track, the
 *   last one given: so the track bears the name the thread had when its latest slice ran,
 *   never a name it had only before or after its slices, and each slice keeps its own.
 * - an `interval` event becomes two counters on the traced process: `syscalls/s`
 *   (`calls`) and `syscall errors/s` (`errors`);
 * - the `total` event is an instant on `summaryTrack` with the top rows in its args.
 */
export class SyscallTefEncoder {
  readonly #summaryTrack: SyscallTefTrack;
  /** The name last given to each thread track, by `pid/tid`. */
  readonly #named = new Map<string, string>();
  readonly #tracks = new SliceTracks();

  /** Put `total` summaries on `summaryTrack` (e.g. the trace sink's status track). */
  constructor(summaryTrack: SyscallTefTrack) {
    this.#summaryTrack = summaryTrack;
  }

  /**
   * TEF events for an anomaly: metadata the first time its thread appears or when it
   * runs under a new name, then an `X` slice.
   */
  anomaly(event: AnomalyEvent): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const key = `${event.pid}/${event.tid}`;
    if (event.comm !== "" && this.#named.get(key) !== event.comm) {
      this.#named.set(key, event.comm);
      if (event.tid === event.pid) {
        out.push({ ph: "M", pid: event.pid, name: "process_name", args: { name: event.comm } });
      }
      out.push({
        ph: "M",
        pid: event.pid,
        tid: event.tid,
        name: "thread_name",
        args: { name: event.comm },
      });
    }
    // Whole µs (see SliceTracks); the exact latency stays in args.latency_ns.
    const { ts, dur } = this.#tracks.place(key, tefMicroseconds(event.startTime), event.latencyNs);
    const args: Record<string, unknown> = {
      comm: event.comm,
      latency_ns: event.latencyNs,
      z_score: event.zScore === null ? null : Math.round(event.zScore * 100) / 100,
      mean_ns: event.meanNs === null ? null : Math.round(event.meanNs),
      stddev_ns: event.stddevNs === null ? null : Math.round(event.stddevNs),
      reasons: event.reasons.join(","),
      nr: event.nr,
    };
    if (event.errno) args.errno = event.errno;
    out.push({
      ph: "X",
      ts,
      dur,
      pid: event.pid,
      tid: event.tid,
      name: event.syscall,
      cat: "syscall",
      args,
    });
    return out;
  }

  /** TEF events for a `syscall` event: rate counters for an interval, an instant for the total. */
  syscall(event: SyscallEvent): Record<string, unknown>[] {
    const ts = tefMicroseconds(event.time);
    if (event.scope === "interval") {
      const seconds = Math.max((event.time - event.startTime) / 1000, 1e-3);
      const rate = (n: number) => Math.round((n / seconds) * 100) / 100;
      return [
        {
          ph: "C",
          ts,
          pid: event.pid,
          tid: event.pid,
          name: "syscalls/s",
          args: { calls: rate(event.calls) },
        },
        {
          ph: "C",
          ts,
          pid: event.pid,
          tid: event.pid,
          name: "syscall errors/s",
          args: { errors: rate(event.errors) },
        },
      ];
    }
    return [{
      ph: "i",
      s: "t",
      ts,
      pid: this.#summaryTrack.pid,
      tid: this.#summaryTrack.tid,
      name: `syscalls of pid ${event.pid}: ${event.calls} calls, ${event.errors} errors`,
      cat: "syscall",
      args: {
        pid: event.pid,
        calls: event.calls,
        errors: event.errors,
        total_ms: Math.round(event.totalNs / 1000) / 1000,
        lost_events: event.lostEvents,
        top: event.rows.slice(0, 20).map((row) =>
          `${row.name}${row.tid !== undefined ? ` tid ${row.tid}` : ""}: ${row.calls} calls, ${
            Math.round(row.totalNs / 1000) / 1000
          } ms${row.errors > 0 ? `, ${row.errors} errors` : ""}`
        ),
      },
    }];
  }
}
