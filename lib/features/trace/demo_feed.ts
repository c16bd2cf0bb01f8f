/**
 * Synthetic syscall data for `wrapp trace --demo`: a made-up server doing `rate` syscalls
 * per second (reads, writes, epoll, futexes, failing opens…) with an occasional far-too-slow
 * call, so the view can be tried without root or bpftrace and tested to the character.
 *
 * It is deterministic: the same seed and the same number of ticks give the same numbers,
 * whatever the machine's speed, because each tick adds exactly `rate × tick` calls and the
 * clock is the tick count, not the wall.
 *
 * @module
 */

import { SyscallSnapshot } from "../../pipeline/syscalls/syscall_stats.ts";
import type { AnomalyEvent } from "../../pipeline/syscalls/syscall_events.ts";
import { latencyBucket } from "../../pipeline/syscalls/latency_histogram.ts";
import { type SyscallArch, syscallNumber } from "../../pipeline/syscalls/syscall_table.ts";
import type { TraceFeed, TraceHeader } from "./trace_view_state.ts";

/** Options for {@linkcode DemoFeed}. */
export interface DemoFeedOptions {
  /** Syscalls per second on average. Default 100000. */
  rate?: number;
  /** Simulated time per tick, ms. Default 50. */
  tickMs?: number;
  /** Seed of the pseudo-random numbers. Default 1. */
  seed?: number;
  /** Architecture whose syscall numbers are used. */
  arch: SyscallArch;
  /** When the demo "started", ms since the Unix epoch. Default: now. */
  startTime?: number;
  /** Ticks after which the demo's process "exits" (TRACE COMPLETE). Default: never. */
  endAfterTicks?: number;
}

/** One syscall of the made-up workload. */
interface _Call {
  name: string;
  /** Share of all calls. */
  share: number;
  /** Typical latency, ns. */
  medianNs: number;
  /** Share of its calls that fail, and with which errno. */
  failure?: { share: number; errno: number };
}

const _WORKLOAD: readonly _Call[] = [
  { name: "read", share: 0.28, medianNs: 900 },
  { name: "write", share: 0.18, medianNs: 1_600 },
  { name: "epoll_pwait", share: 0.1, medianNs: 40_000 },
  { name: "futex", share: 0.1, medianNs: 6_000, failure: { share: 0.3, errno: 11 } },
  { name: "recvfrom", share: 0.08, medianNs: 1_200, failure: { share: 0.25, errno: 11 } },
  { name: "sendto", share: 0.06, medianNs: 4_000 },
  { name: "openat", share: 0.05, medianNs: 3_000, failure: { share: 0.2, errno: 2 } },
  { name: "close", share: 0.05, medianNs: 500 },
  { name: "newfstatat", share: 0.04, medianNs: 1_500, failure: { share: 0.1, errno: 2 } },
  { name: "mmap", share: 0.02, medianNs: 2_500 },
  { name: "munmap", share: 0.02, medianNs: 3_500 },
  { name: "ioctl", share: 0.01, medianNs: 800, failure: { share: 0.9, errno: 25 } },
  { name: "clock_nanosleep", share: 0.01, medianNs: 1_100_000 },
];

/** Latencies drawn per syscall per tick; each stands for an equal share of its calls. */
const _SAMPLES = 6;
const _THREADS = ["demo-main", "demo-io-1", "demo-io-2", "demo-worker"];

/** The demo's data source. */
export class DemoFeed implements TraceFeed {
  readonly arch: SyscallArch;
  readonly pid = 4242;
  readonly #rate: number;
  readonly #tickMs: number;
  readonly #startTime: number;
  readonly #endAfterTicks: number;
  readonly #calls: (_Call & { nr: number })[];
  readonly #snapshot = new SyscallSnapshot();
  readonly #command: string;
  #random: () => number;
  #ticks = 0;
  #anomalies: AnomalyEvent[] = [];

  constructor(options: DemoFeedOptions) {
    this.arch = options.arch;
    this.#rate = options.rate ?? 100_000;
    this.#tickMs = options.tickMs ?? 50;
    this.#startTime = options.startTime ?? Date.now();
    this.#endAfterTicks = options.endAfterTicks ?? Infinity;
    this.#random = _mulberry32(options.seed ?? 1);
    this.#command = `demo server (${this.#rate.toLocaleString("en-US")} syscalls/s)`;
    this.#calls = _WORKLOAD.flatMap((call) => {
      const nr = syscallNumber(call.name, options.arch);
      return nr === undefined ? [] : [{ ...call, nr }];
    });
  }

  /** Simulated time now, ms since the Unix epoch. */
  get time(): number {
    return this.#startTime + this.#ticks * this.#tickMs;
  }

  get ticks(): number {
    return this.#ticks;
  }

  /** Whether the made-up process has "exited". */
  get complete(): boolean {
    return this.#ticks >= this.#endAfterTicks;
  }

  /** Add one tick of calls (nothing once complete). */
  tick(): void {
    if (this.complete) return;
    this.#ticks++;
    const seconds = (this.#ticks * this.#tickMs) / 1000;
    // A slow swell and a faster ripple, so the sparkline has a shape.
    const load = 1 + 0.35 * Math.sin((2 * Math.PI * seconds) / 12) +
      0.15 * Math.sin((2 * Math.PI * seconds) / 2.5);
    const tickCalls = this.#rate * load * (this.#tickMs / 1000);
    for (const call of this.#calls) {
      const count = Math.round(tickCalls * call.share * (0.9 + 0.2 * this.#random()));
      if (count <= 0) continue;
      let left = count;
      for (let i = 0; i < _SAMPLES && left > 0; i++) {
        const n = i === _SAMPLES - 1 ? left : Math.min(left, Math.round(count / _SAMPLES));
        left -= n;
        // Log-normal around the median (σ ≈ 0.6 in natural log units).
        const latency = Math.max(
          50,
          Math.round(call.medianNs * Math.exp(0.6 * _gaussian(this.#random))),
        );
        this.#snapshot.add(0, call.nr, latencyBucket(latency), n, latency * n);
      }
      if (call.failure) {
        const failed = Math.round(count * call.failure.share);
        if (failed > 0) this.#snapshot.addErrors(0, call.nr, call.failure.errno, failed);
      }
    }
    // About one anomaly every two seconds.
    if (this.#random() < this.#tickMs / 2000) this.#anomalies.push(this.#anomaly());
    if (this.#anomalies.length > 1000) this.#anomalies.splice(0, this.#anomalies.length - 1000);
  }

  header(): TraceHeader {
    return {
      pid: this.pid,
      command: this.#command,
      threads: this.complete ? 0 : _THREADS.length,
      startTime: this.#startTime,
      lostEvents: 0,
      state: this.complete ? "complete" : "tracing",
      ...(this.complete ? { exit: "exit code 0" } : {}),
      source: "demo data (deterministic)",
      refreshMs: this.#tickMs,
    };
  }

  latest(): { snapshot: SyscallSnapshot; time: number } | undefined {
    return this.#ticks === 0 ? undefined : { snapshot: this.#snapshot, time: this.time };
  }

  takeAnomalies(): AnomalyEvent[] {
    const taken = this.#anomalies;
    this.#anomalies = [];
    return taken;
  }

  #anomaly(): AnomalyEvent {
    const call = this.#calls[Math.floor(this.#random() * this.#calls.length)];
    const factor = 40 + Math.floor(this.#random() * 400);
    const latencyNs = call.medianNs * factor;
    const stddevNs = call.medianNs * 0.7;
    const thread = Math.floor(this.#random() * _THREADS.length);
    const time = this.time;
    return {
      kind: "anomaly",
      time,
      pid: this.pid,
      tid: this.pid + thread,
      comm: _THREADS[thread],
      syscall: call.name,
      nr: call.nr,
      startTime: time - latencyNs / 1e6,
      latencyNs,
      zScore: (latencyNs - call.medianNs) / stddevNs,
      meanNs: call.medianNs,
      stddevNs,
      reasons: ["zscore"],
    };
  }
}

/** A small, fast seeded generator of numbers in [0, 1). */
function _mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal number (Box–Muller). */
function _gaussian(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
