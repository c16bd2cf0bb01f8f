/**
 * What `wrapp trace --tui` shows, apart from how it is drawn: the rows of the syscall
 * table (sorted, filtered, with a selection), the rate history for the sparkline, the
 * latency histogram of the selected syscall, the latest anomalies, and the keys that
 * change them. It pulls from a {@linkcode TraceFeed} once per tick; everything it keeps
 * is bounded, so its memory stays flat however long it runs.
 *
 * @module
 */

import type { SyscallSnapshot } from "../../pipeline/syscalls/syscall_stats.ts";
import { rowTotals, syscallRows } from "../../pipeline/syscalls/syscall_stats.ts";
import type { AnomalyEvent, SyscallRow } from "../../pipeline/syscalls/syscall_events.ts";
import type { SyscallArch } from "../../pipeline/syscalls/syscall_table.ts";
import { SYSCALL_CLASSES } from "../../pipeline/syscalls/syscall_classes.ts";
import { bucketRange } from "../../pipeline/syscalls/latency_histogram.ts";

/** What the header says about the traced process. */
export interface TraceHeader {
  /** The traced process. */
  pid: number;
  /** Its command line (or the demo's name). */
  command: string;
  /** Threads it has now (0 once it is gone). */
  threads: number;
  /** When tracing started, ms since the Unix epoch. */
  startTime: number;
  /** Events bpftrace lost so far. */
  lostEvents: number;
  /** `complete` once the traced process has exited (or the trace stopped). */
  state: "starting" | "tracing" | "complete";
  /** How it ended, e.g. "exit code 0". */
  exit?: string;
  /** Where the traced program's output goes. */
  outputPath?: string;
  /** Where the numbers come from: "bpftrace 0.17.0", "demo data". */
  source: string;
  /** How often the counts are refreshed, ms. */
  refreshMs: number;
}

/** Where the view's data comes from: the eBPF tracer or the demo generator. */
export interface TraceFeed {
  readonly arch: SyscallArch;
  /** Called once per tick before the view pulls (the demo makes its data there). */
  tick?(): void;
  header(): TraceHeader;
  /** The latest cumulative counts and when they were taken. */
  latest(): { snapshot: SyscallSnapshot; time: number } | undefined;
  /** Anomalies found since the previous call, oldest first. */
  takeAnomalies(): AnomalyEvent[];
}

/** What the syscall table can be sorted by (`s` cycles through them). */
export const SORT_KEYS = ["calls", "time", "errors", "p99"] as const;
export type SortKey = typeof SORT_KEYS[number];

/** `f` cycles through these: every syscall, then each class. */
export const FILTERS: readonly string[] = ["all", ...Object.keys(SYSCALL_CLASSES)];

/** Rate samples kept for the sparkline (more than any terminal is wide). */
export const RATE_HISTORY = 512;
/** Anomalies kept for the list. */
export const ANOMALY_HISTORY = 100;

/** One row of the latency histogram: calls between `lowNs` and `highNs`. */
export interface HistogramRow {
  lowNs: number;
  highNs: number;
  count: number;
}

/** A key as the terminal library reports it. */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  ctrl?: boolean;
  escape?: boolean;
}

/** The view's state. */
export class TraceViewState {
  sort: SortKey = "calls";
  filter = "all";
  paused = false;
  helpOpen = false;
  /** The selected syscall, by name (stays selected when the rows move). */
  selected: string | undefined;
  /** Rows shown: filtered and sorted. */
  rows: SyscallRow[] = [];
  /** Calls and errors over every syscall (unfiltered) since tracing started. */
  totals = { calls: 0, errors: 0, totalNs: 0 };
  /** Calls per second, oldest first. */
  rates: number[] = [];
  /** Latest anomalies, newest first. */
  anomalies: AnomalyEvent[] = [];
  /** All anomalies seen (the list keeps only the latest). */
  anomalyCount = 0;
  header: TraceHeader;

  readonly #feed: TraceFeed;
  #snapshot: SyscallSnapshot | undefined;
  #allRows: SyscallRow[] = [];
  #lastSample: { time: number; calls: number } | undefined;

  constructor(feed: TraceFeed) {
    this.#feed = feed;
    this.header = feed.header();
  }

  /**
   * Bumped whenever something shown changes (new counts, anomalies, the header, a key), so
   * the view can skip redrawing a frame that would look the same.
   */
  version = 0;

  /** Pull what is new from the feed (nothing while paused, except the header's state). */
  update(): void {
    const header = this.#feed.header();
    if (!_sameHeader(header, this.header)) this.version++;
    this.header = header;
    if (this.paused) return;
    for (const anomaly of this.#feed.takeAnomalies()) {
      this.anomalyCount++;
      this.anomalies.unshift(anomaly);
      this.version++;
    }
    if (this.anomalies.length > ANOMALY_HISTORY) this.anomalies.length = ANOMALY_HISTORY;
    const latest = this.#feed.latest();
    if (!latest || latest.time === this.#lastSample?.time) return;
    this.#snapshot = latest.snapshot;
    this.#allRows = syscallRows(latest.snapshot, { arch: this.#feed.arch });
    this.totals = rowTotals(this.#allRows);
    if (this.#lastSample && latest.time > this.#lastSample.time) {
      const rate = (this.totals.calls - this.#lastSample.calls) * 1000 /
        (latest.time - this.#lastSample.time);
      this.rates.push(Math.max(0, rate));
      if (this.rates.length > RATE_HISTORY) this.rates.splice(0, this.rates.length - RATE_HISTORY);
    }
    this.#lastSample = { time: latest.time, calls: this.totals.calls };
    this.#arrange();
    this.version++;
  }

  /** Calls per second in the latest sample. */
  get rate(): number {
    return this.rates.at(-1) ?? 0;
  }

  /** Handle a key; returns `"quit"` for `q`, Ctrl-C (and Esc outside the help). */
  key(key: KeyPress): "quit" | undefined {
    this.version++;
    if (this.helpOpen) {
      if (key.input === "q" || (key.ctrl && key.input === "c")) return "quit";
      this.helpOpen = false; // any other key closes the help
      return undefined;
    }
    if (key.input === "q" || (key.ctrl && key.input === "c") || key.escape) return "quit";
    if (key.upArrow) this.#move(-1);
    else if (key.downArrow) this.#move(1);
    else if (key.pageUp) this.#move(-10);
    else if (key.pageDown) this.#move(10);
    else if (key.input === "s") {
      this.sort = SORT_KEYS[(SORT_KEYS.indexOf(this.sort) + 1) % SORT_KEYS.length];
      this.#arrange();
    } else if (key.input === "p" || key.input === " ") {
      this.paused = !this.paused;
    } else if (key.input === "f") {
      this.filter = FILTERS[(FILTERS.indexOf(this.filter) + 1) % FILTERS.length];
      this.#arrange();
    } else if (key.input === "?" || key.input === "h") {
      this.helpOpen = true;
    }
    return undefined;
  }

  /** The selected row, if any. */
  get selectedRow(): SyscallRow | undefined {
    return this.rows.find((row) => row.name === this.selected);
  }

  /** The latency histogram of the selected syscall, one row per power of two, fastest first. */
  histogram(): HistogramRow[] {
    const row = this.selectedRow;
    if (!row || !this.#snapshot) return [];
    const octaves = new Map<number, number>();
    for (const [bucket, totals] of this.#snapshot.histogramOf(row.nr)) {
      const octave = Math.floor(bucket / 4);
      octaves.set(octave, (octaves.get(octave) ?? 0) + totals.count);
    }
    if (octaves.size === 0) return [];
    const low = Math.min(...octaves.keys());
    const high = Math.max(...octaves.keys());
    const rows: HistogramRow[] = [];
    for (let octave = low; octave <= high; octave++) {
      rows.push({
        lowNs: bucketRange(octave * 4).low,
        highNs: bucketRange(octave * 4 + 3).high,
        count: octaves.get(octave) ?? 0,
      });
    }
    return rows;
  }

  #arrange(): void {
    const names = this.filter === "all" ? undefined : new Set(SYSCALL_CLASSES[this.filter]);
    const rows = names ? this.#allRows.filter((row) => names.has(row.name)) : [...this.#allRows];
    const by: Record<SortKey, (row: SyscallRow) => number> = {
      calls: (row) => row.calls,
      time: (row) => row.totalNs,
      errors: (row) => row.errors,
      p99: (row) => row.p99Ns,
    };
    const value = by[this.sort];
    rows.sort((a, b) => value(b) - value(a) || b.calls - a.calls || a.name.localeCompare(b.name));
    this.rows = rows;
    if (!rows.some((row) => row.name === this.selected)) this.selected = rows[0]?.name;
  }

  #move(step: number): void {
    if (this.rows.length === 0) return;
    const index = Math.max(0, this.rows.findIndex((row) => row.name === this.selected));
    const next = Math.min(this.rows.length - 1, Math.max(0, index + step));
    this.selected = this.rows[next].name;
  }
}

function _sameHeader(a: TraceHeader, b: TraceHeader): boolean {
  return a.pid === b.pid && a.command === b.command && a.threads === b.threads &&
    a.lostEvents === b.lostEvents && a.state === b.state && a.exit === b.exit;
}
