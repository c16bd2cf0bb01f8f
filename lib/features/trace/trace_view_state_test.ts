import assert from "node:assert/strict";
import { SyscallSnapshot } from "../../pipeline/syscalls/syscall_stats.ts";
import { latencyBucket } from "../../pipeline/syscalls/latency_histogram.ts";
import { syscallNumber } from "../../pipeline/syscalls/syscall_table.ts";
import type { AnomalyEvent } from "../../pipeline/syscalls/syscall_events.ts";
import {
  ANOMALY_HISTORY,
  FILTERS,
  RATE_HISTORY,
  type TraceFeed,
  type TraceHeader,
  TraceViewState,
} from "./trace_view_state.ts";

/** A feed the test fills by hand: cumulative counts per syscall name. */
class HandFeed implements TraceFeed {
  readonly arch = "x86_64" as const;
  snapshot = new SyscallSnapshot();
  time = 0;
  anomalies: AnomalyEvent[] = [];
  complete = false;

  /** `count` calls of `name`, each `latencyNs` long, `errors` of them failing with ENOENT. */
  add(name: string, count: number, latencyNs: number, errors = 0): void {
    const nr = syscallNumber(name, this.arch)!;
    this.snapshot.add(0, nr, latencyBucket(latencyNs), count, count * latencyNs);
    if (errors > 0) this.snapshot.addErrors(0, nr, 2, errors);
  }

  header(): TraceHeader {
    return {
      pid: 1,
      command: "test",
      threads: 1,
      startTime: 0,
      lostEvents: 0,
      state: this.complete ? "complete" : "tracing",
      source: "hand",
      refreshMs: 1000,
    };
  }

  latest() {
    return this.time === 0 ? undefined : { snapshot: this.snapshot, time: this.time };
  }

  takeAnomalies(): AnomalyEvent[] {
    return this.anomalies.splice(0);
  }
}

function anomaly(syscall: string, latencyNs: number): AnomalyEvent {
  return {
    kind: "anomaly",
    time: 1,
    pid: 1,
    tid: 1,
    comm: "t",
    syscall,
    nr: syscallNumber(syscall, "x86_64")!,
    startTime: 0,
    latencyNs,
    zScore: 9,
    meanNs: 1,
    stddevNs: 1,
    reasons: ["zscore"],
  };
}

function filled(): { feed: HandFeed; state: TraceViewState } {
  const feed = new HandFeed();
  feed.add("read", 500, 1_000);
  feed.add("openat", 100, 20_000, 40);
  feed.add("nanosleep", 10, 5_000_000);
  feed.time = 1000;
  const state = new TraceViewState(feed);
  state.update();
  return { feed, state };
}

Deno.test("TraceViewState sorts by count, then time, errors and p99 as s is pressed", () => {
  const { state } = filled();
  assert.deepEqual(state.rows.map((row) => row.name), ["read", "openat", "nanosleep"]);
  assert.equal(state.selected, "read", "the first row is selected");
  state.key({ input: "s" });
  assert.equal(state.sort, "time");
  assert.deepEqual(state.rows.map((row) => row.name), ["nanosleep", "openat", "read"]);
  state.key({ input: "s" });
  assert.equal(state.sort, "errors");
  assert.equal(state.rows[0].name, "openat");
  assert.equal(state.rows[0].errors, 40);
  state.key({ input: "s" });
  assert.equal(state.sort, "p99");
  state.key({ input: "s" });
  assert.equal(state.sort, "calls", "the sort cycles");
  assert.equal(state.selected, "read", "the selection follows its syscall, not its row");
});

Deno.test("TraceViewState moves the selection with the arrows and shows its histogram", () => {
  const { state } = filled();
  state.key({ input: "", downArrow: true });
  assert.equal(state.selected, "openat");
  const histogram = state.histogram();
  assert.equal(histogram.reduce((sum, row) => sum + row.count, 0), 100);
  assert.ok(histogram.every((row) => row.lowNs <= 20_000 + 1 && row.highNs >= 16_384 - 1));
  state.key({ input: "", downArrow: true });
  state.key({ input: "", downArrow: true });
  assert.equal(state.selected, "nanosleep", "it stops at the last row");
  state.key({ input: "", upArrow: true });
  assert.equal(state.selected, "openat");
});

Deno.test("TraceViewState filters by syscall class with f", () => {
  const { state } = filled();
  state.key({ input: "f" });
  assert.equal(state.filter, "file");
  assert.deepEqual(state.rows.map((row) => row.name), ["openat"]);
  assert.equal(state.selected, "openat", "a filtered-out selection moves to a shown row");
  for (let i = 1; i < FILTERS.length; i++) state.key({ input: "f" });
  assert.equal(state.filter as string, "all");
  assert.equal(state.rows.length, 3);
});

Deno.test("TraceViewState computes the rate from successive counts, and freezes while paused", () => {
  const { feed, state } = filled();
  assert.deepEqual(state.rates, [], "one sample gives no rate yet");
  feed.add("read", 2000, 1_000);
  feed.time = 1500;
  state.update();
  assert.equal(state.rate, 4000, "2000 calls in 0.5 s");
  state.key({ input: "p" });
  assert.equal(state.paused, true);
  feed.add("read", 5000, 1_000);
  feed.time = 2500;
  feed.anomalies.push(anomaly("read", 1e6));
  state.update();
  assert.equal(state.totals.calls, 2610, "paused: the numbers do not move");
  assert.equal(state.anomalies.length, 0);
  state.key({ input: "p" });
  state.update();
  assert.equal(state.totals.calls, 7610);
  assert.equal(state.rate, 5000);
  assert.equal(state.anomalies.length, 1, "anomalies held while paused arrive after");
});

Deno.test("TraceViewState keeps a bounded history however long it runs", () => {
  const { feed, state } = filled();
  for (let i = 0; i < RATE_HISTORY + 50; i++) {
    feed.add("read", 10, 1_000);
    feed.time += 50;
    feed.anomalies.push(anomaly("read", 2e6));
    state.update();
  }
  assert.equal(state.rates.length, RATE_HISTORY);
  assert.equal(state.anomalies.length, ANOMALY_HISTORY);
  assert.equal(state.anomalyCount, RATE_HISTORY + 50);
});

Deno.test("TraceViewState quits on q, Ctrl-C and Esc; ? opens help that any key closes", () => {
  const { state } = filled();
  assert.equal(state.key({ input: "q" }), "quit");
  assert.equal(state.key({ input: "c", ctrl: true }), "quit");
  assert.equal(state.key({ input: "", escape: true }), "quit");
  state.key({ input: "?" });
  assert.equal(state.helpOpen, true);
  assert.equal(state.key({ input: "s" }), undefined);
  assert.equal(state.helpOpen, false);
  assert.equal(state.sort, "calls", "the key that closed the help did nothing else");
});

Deno.test("TraceViewState bumps its version only when something shown changes", () => {
  const { feed, state } = filled();
  const before = state.version;
  state.update();
  state.update();
  assert.equal(state.version, before, "nothing new: the same frame");
  feed.add("read", 10, 1_000);
  feed.time = 2000;
  state.update();
  assert.ok(state.version > before, "new counts");
  const counted = state.version;
  feed.complete = true;
  state.update();
  assert.ok(state.version > counted, "the header changed (TRACE COMPLETE)");
  const completed = state.version;
  state.key({ input: "s" });
  assert.ok(state.version > completed, "a key");
});
