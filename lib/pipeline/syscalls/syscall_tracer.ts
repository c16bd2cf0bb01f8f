/**
 * Syscall tracing of a process tree through `bpf/syscalls.bt` (give it a pid and an
 * `emit`, e.g. a router's). `wrapp trace`, a service's `[trace]` section and `wrapp record`
 * run it through one `SyscallSession` (`syscall_session.ts`).
 *
 * While tracing, every second the kernel's cumulative maps arrive: wrapp turns the
 * difference to the previous second into an `interval` {@linkcode SyscallEvent} and
 * judges the slow calls (those at or above the floor, sent one by one) against their
 * syscall's statistics, emitting an {@linkcode AnomalyEvent} for each anomaly. At the
 * end, {@linkcode SyscallTracer.stop} emits a `total` event and returns the summary.
 *
 * Kernel times are CLOCK_MONOTONIC ns; they are turned into wall-clock ms with an offset
 * measured against wrapp's clock whenever a timestamped line arrives (the smallest
 * offset wins: it is the one least delayed by the pipe).
 *
 * @module
 */

import { now } from "../../core/event.ts";
import { describeCause, SidecarError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import type { BpftraceMapData, BpftraceMessage } from "../bpf/bpftrace_json.ts";
import { type BpfProgram, SYSCALLS_PROGRAM } from "../bpf/programs.ts";
import { BpftraceSidecar } from "../sources/bpftrace.ts";
import type { AnomalyEvent, SyscallEvent, SyscallRow } from "./syscall_events.ts";
import type { AnomalyOptions } from "./anomaly_detector.ts";
import { judgeSlowCalls } from "./slow_call_judge.ts";
import { rowTotals, syscallRows, SyscallSnapshot } from "./syscall_stats.ts";
import { hostArch, type SyscallArch, syscallNumber } from "./syscall_table.ts";
import { parseRenameLine, parseSlowCallLine, type SlowCall, ThreadNames } from "./tracer_lines.ts";
import type { TraceSummary } from "./trace_summary.ts";

/** How long to keep reading bpftrace after the traced process exited, ms (see the `X` line). */
const _EXIT_DRAIN_MS = 250;

/** Default floor: calls at least this slow (ns) are sent individually and judged. */
export const DEFAULT_FLOOR_NS = 1_000_000;
/** Most anomalies kept in a summary (all are emitted and counted). */
export const MAX_SUMMARY_ANOMALIES = 1000;

/** Options for {@linkcode SyscallTracer.start}. */
export interface SyscallTracerOptions {
  /** The process to trace; its children started from now on are followed. */
  pid: number;
  /** bpftrace binary (from the preflight check). */
  bpftrace: string;
  /** Architecture of the traced process. Default: wrapp's. */
  arch?: SyscallArch;
  /** Statistics per thread rather than per process tree. Default false. */
  perThread?: boolean;
  /** Calls at least this slow (ns) are examined individually. Default 1 ms, lowered to `anomaly.slowNs`. */
  floorNs?: number;
  /** z-score threshold, absolute bound. */
  anomaly?: AnomalyOptions;
  /** Report only these syscall numbers. Default: all. */
  filter?: ReadonlySet<number>;
  /** Receives interval `syscall` events and `anomaly` events as they happen (e.g. `router.emit`). */
  emit?: (event: SyscallEvent | AnomalyEvent) => void;
  /**
   * Receives every call at or above the floor as it arrives, with its start in ms since
   * the Unix epoch (before it is judged: anomalies follow through `emit`).
   */
  onSlowCall?: (call: SlowCall, startTime: number) => void;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /** The program (tests only). Default `bpf/syscalls.bt`. */
  program?: BpfProgram;
  /** How long bpftrace may take to compile and attach, ms. Default 60000. */
  startTimeoutMs?: number;
  /** How long bpftrace may take to print its final maps after SIGINT, ms, before SIGKILL. Default 10000. */
  stopTimeoutMs?: number;
}

/** A running syscall trace. */
export class SyscallTracer {
  /** Resolves when the traced process exits (its main thread). */
  readonly rootExited: Promise<void>;

  readonly #options: SyscallTracerOptions;
  readonly #arch: SyscallArch;
  readonly #floorNs: number;
  readonly #debug: DebugLog;
  #startTime = now();
  #sidecar!: BpftraceSidecar;
  #offsetMs = Number.POSITIVE_INFINITY;
  #rootExit = Promise.withResolvers<void>();
  #collecting: { final: boolean; ns: number; maps: Record<string, BpftraceMapData> } | undefined;
  #previous = new SyscallSnapshot();
  #previousTime: number;
  #latest: SyscallSnapshot | undefined;
  #latestTime = 0;
  #latestNs = 0;
  #final = false;
  #pending: SlowCall[] = [];
  #observedMax = new Map<string, number>();
  #threads = new ThreadNames();
  #anomalies: AnomalyEvent[] = [];
  #anomalyCount = 0;
  #stopping: Promise<TraceSummary> | undefined;
  #failed: Promise<SidecarError> = new Promise(() => {});
  /** Log every slow call under --debug too (not when there are many). */
  #debugSlowCalls = true;

  private constructor(options: SyscallTracerOptions) {
    this.#options = options;
    this.#arch = options.arch ?? hostArch();
    const slow = options.anomaly?.slowNs;
    this.#floorNs = Math.max(
      1,
      Math.round(Math.min(options.floorNs ?? DEFAULT_FLOOR_NS, slow ?? Number.POSITIVE_INFINITY)),
    );
    this.#debug = options.debug ?? silentDebug;
    this.#previousTime = this.#startTime;
    this.rootExited = this.#rootExit.promise;
  }

  /**
   * Start bpftrace on `options.pid` and resolve once its probes are attached. Throws a
   * {@linkcode SidecarError} when bpftrace cannot run the program.
   */
  static async start(options: SyscallTracerOptions): Promise<SyscallTracer> {
    if (!Number.isSafeInteger(options.pid) || options.pid <= 0) {
      throw new RangeError(`Invalid pid ${options.pid}: must be a positive integer`);
    }
    const tracer = new SyscallTracer(options);
    const arch = tracer.#arch;
    const program = options.program ?? SYSCALLS_PROGRAM;
    const perThread = options.perThread ?? false;
    tracer.#sidecar = await BpftraceSidecar.start({
      bpftrace: options.bpftrace,
      program: program.text,
      programName: program.name,
      params: [
        options.pid,
        tracer.#floorNs,
        perThread ? 1 : 0,
        syscallNumber("exit", arch) ?? 0,
        syscallNumber("exit_group", arch) ?? 0,
      ],
      env: {
        // Keys of @lat (threads × syscalls × buckets), @start and @pids (threads).
        BPFTRACE_MAP_KEYS_MAX: perThread ? "65536" : "16384",
      },
      onMessage: (message) => tracer.#onMessage(message),
      isReady: (message) => message.type === "printf" && message.text.startsWith("R "),
      startTimeoutMs: options.startTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs,
      debug: tracer.#debug,
    });
    tracer.#startTime = tracer.#previousTime = now();
    tracer.#failed = tracer.#sidecar.exited.then(
      (exit) => {
        if (exit.requested) return new Promise<SidecarError>(() => {});
        return new SidecarError(
          `bpftrace stopped unexpectedly (${
            exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`
          })${tracer.#sidecar.describeFailure()}`,
        );
      },
    );
    return tracer;
  }

  /** Resolves with an error if bpftrace ends without being asked to (never resolves otherwise). */
  get failed(): Promise<SidecarError> {
    return this.#failed;
  }

  /**
   * Once the traced process is known to have exited (e.g. from its status), wait until
   * bpftrace has reported that exit too, so its last calls have arrived from every CPU's
   * buffer (they are lost when bpftrace is stopped first); at most `maxWaitMs`.
   */
  async drained(maxWaitMs = 1000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.rootExited,
      new Promise<void>((resolve) => timer = setTimeout(resolve, maxWaitMs)),
    ]);
    clearTimeout(timer);
  }

  /** The latest cumulative maps and when bpftrace printed them (once a second), if any yet. */
  get latest(): { snapshot: SyscallSnapshot; time: number } | undefined {
    return this.#latest && { snapshot: this.#latest, time: this.#latestTime };
  }

  /** bpftrace's pid. */
  get sidecarPid(): number {
    return this.#sidecar.pid;
  }

  /** The floor in ns actually used. */
  get floorNs(): number {
    return this.#floorNs;
  }

  /**
   * Stop bpftrace, judge the last slow calls against the final statistics, emit the
   * `total` syscall event and return the summary. Idempotent.
   */
  stop(): Promise<TraceSummary> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<TraceSummary> {
    const exit = await this.#sidecar.stop();
    if (!exit.requested || exit.signal === "SIGKILL") {
      this.#debug(`bpftrace ended with ${exit.signal ?? `code ${exit.code}`}`);
    }
    // Calls not judged yet (no final maps: bpftrace was killed) are judged on the last ones.
    const last = this.#latest ?? this.#previous;
    if (this.#pending.length > 0) this.#judgePending(last);
    const endTime = now();
    const rows = syscallRows(last, this.#rowOptions());
    const totals = rowTotals(rows);
    await this.#nameThreads(rows);
    const total: SyscallEvent = {
      kind: "syscall",
      time: endTime,
      scope: "total",
      pid: this.#options.pid,
      startTime: this.#startTime,
      ...totals,
      rows,
      lostEvents: this.#sidecar.lostEvents,
    };
    this.#emit(total);
    return {
      pid: this.#options.pid,
      arch: this.#arch,
      startTime: this.#startTime,
      endTime,
      perThread: this.#options.perThread ?? false,
      floorNs: this.#floorNs,
      ...totals,
      rows,
      threads: this.#threads.toRecord(),
      anomalies: this.#anomalies,
      anomalyCount: this.#anomalyCount,
      lostEvents: this.#sidecar.lostEvents,
      complete: this.#final,
    };
  }

  #onMessage(message: BpftraceMessage): void {
    if (message.type === "map") {
      if (this.#collecting) this.#collecting.maps[message.name] = message.entries;
      return;
    }
    if (message.type !== "printf") return;
    for (const line of message.text.split("\n")) {
      if (line === "") continue;
      const tag = line[0];
      if (tag !== "S" || this.#debugSlowCalls) this.#debug(`bpftrace: ${line}`);
      if (tag === "S") {
        const call = parseSlowCallLine(line);
        if (call) this.#onSlowCall(call);
        else this.#debug(`bad slow-call line ${JSON.stringify(line)}`);
      } else if (tag === "M") {
        const [, ns, final] = line.split(" ");
        this.#sampleClock(Number(ns));
        this.#collecting = { final: final === "1", ns: Number(ns), maps: {} };
      } else if (tag === "m") {
        const collected = this.#collecting;
        this.#collecting = undefined;
        if (collected) this.#onSnapshot(collected);
      } else if (tag === "N") {
        const rename = parseRenameLine(line);
        if (rename) this.#threads.saw(rename.tid, rename.ns, rename.comm);
        else this.#debug(`bad rename line ${JSON.stringify(line)}`);
      } else if (tag === "R") {
        this.#sampleClock(Number(line.split(" ")[1]));
      } else if (tag === "X") {
        this.#sampleClock(Number(line.split(" ")[1]));
        // bpftrace reads one buffer per CPU: a slow call that ended on another CPU just
        // before the exit may still be on its way. Give it a moment before ending.
        setTimeout(() => this.#rootExit.resolve(), _EXIT_DRAIN_MS);
      }
    }
  }

  #onSlowCall(call: SlowCall): void {
    // The name at the call's exit (an exec renames during its call).
    this.#threads.saw(call.tid, call.startNs + call.latencyNs, call.comm);
    const key = `${this.#options.perThread ? call.tid : 0},${call.nr}`;
    this.#observedMax.set(key, Math.max(this.#observedMax.get(key) ?? 0, call.latencyNs));
    if (this.#options.filter && !this.#options.filter.has(call.nr)) return;
    if (this.#options.onSlowCall) {
      try {
        this.#options.onSlowCall(call, this.#toEpochMs(call.startNs));
      } catch (error) {
        this.#debug(`onSlowCall threw: ${describeCause(error)}`);
      }
    }
    // A call that ended before the latest maps were printed, but arrived after them
    // (another CPU's buffer, read late on a busy machine), is judged against those maps
    // now: the next ones would hold a second more of calls, e.g. a later, longer sleep
    // that hides this one.
    if (this.#latest && call.startNs + call.latencyNs <= this.#latestNs) {
      this.#judge([call], this.#latest);
    } else {
      this.#pending.push(call);
    }
  }

  #onSnapshot(collected: { final: boolean; ns: number; maps: Record<string, BpftraceMapData> }) {
    let snapshot: SyscallSnapshot;
    try {
      snapshot = SyscallSnapshot.fromMaps(collected.maps["@lat"], collected.maps["@err"]);
    } catch (error) {
      this.#debug(`cannot read the syscall maps: ${describeCause(error)}`);
      return;
    }
    const time = this.#toEpochMs(collected.ns);
    this.#latest = snapshot;
    this.#latestTime = time;
    this.#latestNs = collected.ns;
    this.#judgePending(snapshot);
    if (collected.final) {
      this.#final = true;
      return;
    }
    const rows = syscallRows(snapshot.minus(this.#previous), this.#rowOptions());
    this.#emit({
      kind: "syscall",
      time,
      scope: "interval",
      pid: this.#options.pid,
      startTime: this.#previousTime,
      ...rowTotals(rows),
      rows,
      lostEvents: this.#sidecar?.lostEvents ?? 0,
    });
    this.#previous = snapshot;
    this.#previousTime = time;
  }

  #judgePending(snapshot: SyscallSnapshot): void {
    const calls = this.#pending;
    this.#pending = [];
    this.#judge(calls, snapshot);
  }

  #judge(calls: readonly SlowCall[], snapshot: SyscallSnapshot): void {
    const anomalies = judgeSlowCalls(calls, snapshot, {
      arch: this.#arch,
      anomaly: this.#options.anomaly,
      toEpochMs: (ns) => this.#toEpochMs(ns),
    });
    for (const anomaly of anomalies) {
      this.#anomalyCount++;
      if (this.#anomalies.length < MAX_SUMMARY_ANOMALIES) this.#anomalies.push(anomaly);
      this.#emit(anomaly);
    }
  }

  #rowOptions() {
    return { arch: this.#arch, filter: this.#options.filter, observedMax: this.#observedMax };
  }

  #emit(event: SyscallEvent | AnomalyEvent): void {
    try {
      this.#options.emit?.(event);
    } catch (error) {
      this.#debug(`emit threw: ${describeCause(error)}`);
    }
  }

  #sampleClock(ns: number): void {
    if (!Number.isFinite(ns)) return;
    this.#offsetMs = Math.min(this.#offsetMs, now() - ns / 1e6);
  }

  #toEpochMs(ns: number): number {
    return (Number.isFinite(this.#offsetMs) ? this.#offsetMs : now() - ns / 1e6) + ns / 1e6;
  }

  /** Names of threads in per-thread rows that no slow call named, from /proc while they live. */
  async #nameThreads(rows: readonly SyscallRow[]): Promise<void> {
    for (const row of rows) {
      if (row.tid === undefined || this.#threads.latest(row.tid) !== undefined) continue;
      try {
        const comm = (await Deno.readTextFile(`/proc/${row.tid}/comm`)).trim();
        // Read after every line: later than any rename seen.
        this.#threads.saw(row.tid, Number.MAX_SAFE_INTEGER, comm);
      } catch {
        // The thread is gone.
      }
    }
  }
}
