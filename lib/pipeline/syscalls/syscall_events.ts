/**
 * How the events of syscall tracing — `syscall` (statistics) and `anomaly` (one
 * far-too-slow call), defined in `lib/core/events/syscall.ts` — look in a Trace Event
 * Format file.
 *
 * @module
 */

import type { AnomalyEvent, SyscallEvent } from "../../core/events/syscall.ts";
import { SliceTracks } from "../tef/slice_tracks.ts";
import { tefMicroseconds } from "../tef/tef_microseconds.ts";

// The events are plain data in core; re-exported for the importers that knew them here.
export type { AnomalyEvent, SyscallEvent, SyscallRow } from "../../core/events/syscall.ts";
export { tefMicroseconds };

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
