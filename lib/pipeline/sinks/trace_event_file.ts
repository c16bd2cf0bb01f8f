/**
 * A sink that records events as Trace Event Format (TEF) for ui.perfetto.dev.
 *
 * While the service runs, events are appended to `<runDir>/events.jsonl`, one JSON object
 * per line, so a crash loses at most what was not yet written. {@linkcode TraceEventFileSink.close}
 * assembles the lines into the array-form `<runDir>/trace.json` Perfetto opens.
 *
 * Layout in Perfetto: one process (the configured name, wrapp's pid) with five tracks,
 * in this order:
 *
 * | tid | track | events |
 * | --- | --- | --- |
 * | 1 | run | one `B`/`E` slice per run, args = the start and exit fields |
 * | 2 | stdout | an instant per line or block |
 * | 3 | stderr | an instant per line or block |
 * | 4 | status | an instant per supervisor status message |
 * | 5 | markers | `{{name:text}}` markers without a numeric value |
 *
 * Numeric markers become `C` counter events: a counter track per marker name.
 *
 * @module
 */

import { join } from "../../core/posix_path.ts";
import { encodeEvent, type Event, type EventEncoders, now } from "../../core/event.ts";
import { describeCause, SinkError } from "../../core/errors.ts";
import { crashTraceEvent } from "./encode/crash.ts";
import { hangTraceEvent } from "./encode/hang.ts";
import { SyscallTefEncoder } from "../syscalls/syscall_events.ts";
import { tefMicroseconds } from "../tef/tef_microseconds.ts";
import { tefLogLine } from "../tef/tef_log_line.ts";
import { trackMetadata } from "../tef/track_metadata.ts";
import { type AssembleResult, assembleTrace, writeAll } from "../tef/assemble_trace.ts";
import { emptyStats, type Sink, type SinkStats } from "./sink.ts";

/** Thread ids of the tracks the sink writes to, in display order. */
export const TRACE_TRACKS = Object.freeze({
  run: 1,
  stdout: 2,
  stderr: 3,
  status: 4,
  markers: 5,
  crash: 6,
});

/** Options for {@linkcode TraceEventFileSink.open}. */
export interface TraceEventFileSinkOptions {
  /** Folder of this run; created (with parents) when missing. */
  runDir: string;
  /** Process name shown in Perfetto, usually the service name. */
  processName: string;
  /** pid written on every event, usually wrapp's own. */
  pid: number;
  /** Run id, shown in the run slice's name `run <runId>`. */
  runId: string;
  /**
   * Characters of encoded events that may wait for the disk. When a slow disk lets more
   * pile up, new batches are dropped and counted rather than growing memory. Default 64 Mi.
   */
  maxQueuedChars?: number;
}

/** Encoded characters handed to one write call. */
const _WRITE_BATCH_CHARS = 1 << 20;
const _DEFAULT_MAX_QUEUED_CHARS = 64 << 20;
/** Queued characters above which the output is held back: few strings stay alive in a burst. */
const _HOLD_CHARS = 1 << 20;

interface _Queued {
  readonly text: string;
  readonly events: number;
}

/**
 * Records events as TEF JSON lines, and assembles `trace.json` when closed.
 *
 * @example A trace for ui.perfetto.dev
 * ```ts
 * import { now, Router, TraceEventFileSink } from "@wrapp/wrapp";
 *
 * const sink = await TraceEventFileSink.open({
 *   runDir: await Deno.makeTempDir(),
 *   processName: "demo",
 *   pid: Deno.pid,
 *   runId: "run-1",
 * });
 * const router = new Router([sink]);
 * router.emit({ kind: "log", time: now(), stream: "stdout", text: "hello" });
 * await router.close(); // assembles the trace
 * console.log(`open ${sink.tracePath} in https://ui.perfetto.dev`);
 * ```
 */
export class TraceEventFileSink implements Sink {
  /** Sink name used in messages and stats. */
  readonly name = "trace";
  /** The JSON-lines file written while running. */
  readonly jsonlPath: string;
  /** The array-form trace written by {@linkcode TraceEventFileSink.close}. */
  readonly tracePath: string;

  readonly #file: Deno.FsFile;
  readonly #pid: number;
  readonly #runName: string;
  readonly #maxQueuedChars: number;
  readonly #holdChars: number;
  readonly #encoders: EventEncoders<string>;
  readonly #syscallTef: SyscallTefEncoder;
  readonly #textEncoder = new TextEncoder();
  #queue: _Queued[] = [];
  #queuedChars = 0;
  #capacityWaiters: Array<() => void> = [];
  #writing: Promise<void> | undefined;
  /** Start time (µs) of the run slice whose `B` is queued and whose `E` is not, if any. */
  #runStart: number | undefined;
  #stats = emptyStats();
  #problem: string | undefined;
  #closing: Promise<void> | undefined;
  #assembled: AssembleResult | undefined;

  private constructor(file: Deno.FsFile, options: TraceEventFileSinkOptions) {
    this.#file = file;
    this.#pid = options.pid;
    this.#runName = `run ${options.runId}`;
    this.#maxQueuedChars = options.maxQueuedChars ?? _DEFAULT_MAX_QUEUED_CHARS;
    this.#holdChars = Math.min(this.#maxQueuedChars / 4, _HOLD_CHARS);
    this.jsonlPath = join(options.runDir, "events.jsonl");
    this.tracePath = join(options.runDir, "trace.json");
    // Syscall statistics: counters on the traced process, anomalies as slices on their
    // thread's track, the final summary as an instant on the status track.
    this.#syscallTef = new SyscallTefEncoder({ pid: this.#pid, tid: TRACE_TRACKS.status });
    this.#encoders = {
      status: (event) => this.#encodeStatus(event),
      log: (event) =>
        tefLogLine(
          this.#pid,
          event.stream === "stdout" ? TRACE_TRACKS.stdout : TRACE_TRACKS.stderr,
          event,
        ),
      metric: (event) => {
        if (event.numeric !== undefined && Number.isFinite(event.numeric)) {
          return this.#line("C", TRACE_TRACKS.markers, tefMicroseconds(event.time), event.name, {
            args: { value: event.numeric },
          });
        }
        return this.#line(
          "i",
          TRACE_TRACKS.markers,
          tefMicroseconds(event.time),
          `${event.name}=${event.value}`,
          {
            cat: "marker",
            s: "t",
            args: { value: event.value, op: event.op, stream: event.stream },
          },
        );
      },
      crash: (event) =>
        JSON.stringify({
          ...crashTraceEvent(event, { pid: this.#pid, tid: TRACE_TRACKS.crash }),
          ts: tefMicroseconds(event.time),
        }) + "\n",
      hang: (event) =>
        JSON.stringify({
          ...hangTraceEvent(event, { pid: this.#pid, tid: TRACE_TRACKS.crash }),
          ts: tefMicroseconds(event.time),
        }) + "\n",
      // Already TEF: written as it came, one line.
      tef: (event) => `${event.json ?? JSON.stringify(event.event)}\n`,
      syscall: (event) => _jsonLines(this.#syscallTef.syscall(event)),
      anomaly: (event) => _jsonLines(this.#syscallTef.anomaly(event)),
    };
  }

  /**
   * Create `runDir`, open `events.jsonl` for appending and queue the metadata that names
   * the process and its tracks. Throws {@linkcode SinkError} when the folder or file
   * cannot be created: `Cannot create trace folder "/x/y": permission denied`.
   */
  static async open(options: TraceEventFileSinkOptions): Promise<TraceEventFileSink> {
    if (!Number.isInteger(options.pid) || options.pid < 0 || options.pid > 4_294_967_295) {
      throw new RangeError(`Invalid pid ${options.pid}: must be an integer 0..4294967295`);
    }
    try {
      await Deno.mkdir(options.runDir, { recursive: true });
    } catch (error) {
      throw new SinkError(
        `Cannot create trace folder "${options.runDir}": ${describeCause(error)}`,
        {
          cause: error,
        },
      );
    }
    const path = join(options.runDir, "events.jsonl");
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { append: true, create: true, mode: 0o644 });
    } catch (error) {
      throw new SinkError(`Cannot open trace file "${path}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    const sink = new TraceEventFileSink(file, options);
    sink.#enqueue(trackMetadata(sink.#pid, options.processName, TRACE_TRACKS), 0);
    return sink;
  }

  /** Encode the batch now and queue it; the file is written in the background. Never throws. */
  write(batch: readonly Event[]): void {
    this.#stats.received += batch.length;
    if (batch.length === 0) return;
    if (this.#closing) {
      this.#drop(batch.length, "the trace sink is closed");
      return;
    }
    if (this.#queuedChars >= this.#maxQueuedChars) {
      this.#drop(batch.length, `writes to "${this.jsonlPath}" are too slow`);
      return;
    }
    const runStart = this.#runStart;
    const lines: string[] = [];
    try {
      for (const event of batch) lines.push(encodeEvent(this.#encoders, event));
    } catch (error) {
      // Not expected (events are plain data); undo the run state so B/E stay balanced.
      this.#runStart = runStart;
      this.#stats.errors++;
      this.#drop(batch.length, `cannot encode an event: ${describeCause(error)}`);
      return;
    }
    this.#enqueue(lines.join(""), batch.length);
  }

  /**
   * `undefined` while less than 1 Mi characters (or a quarter of `maxQueuedChars`) wait to be
   * written, else a promise that resolves once the queue is below that again. The output
   * pipeline awaits it, so a slow disk slows the child's output instead of dropping lines.
   */
  waitForCapacity(): Promise<void> | undefined {
    if (this.#queuedChars < this.#holdChars) return undefined;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#capacityWaiters.push(resolve);
    return promise;
  }

  /** Resolve once every batch accepted so far is written (or counted as dropped). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /**
   * End an open run slice (`E` with `args.reason` "wrapp stopped"), flush, fsync, close
   * the file and assemble `trace.json`. Idempotent. Failures are counted and reported by
   * {@linkcode TraceEventFileSink.healthCheck}, not thrown, so the other sinks still close.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `undefined` while writes succeed, else what went wrong and how much was lost. */
  healthCheck(): Promise<string | undefined> {
    return Promise.resolve(this.#problem);
  }

  /** Current counters. */
  stats(): SinkStats {
    return { ...this.#stats };
  }

  /** What assembling `trace.json` did, once {@linkcode TraceEventFileSink.close} succeeded. */
  get assembled(): AssembleResult | undefined {
    return this.#assembled;
  }

  async #close(): Promise<void> {
    if (this.#runStart !== undefined) {
      const ts = Math.max(tefMicroseconds(now()), this.#runStart);
      this.#runStart = undefined;
      this.#enqueue(
        this.#line("E", TRACE_TRACKS.run, ts, undefined, { args: { reason: "wrapp stopped" } }),
        0,
      );
    }
    await this.flush();
    try {
      await this.#file.sync();
    } catch (error) {
      this.#fail(`Cannot sync trace file "${this.jsonlPath}": ${describeCause(error)}`);
    }
    this.#file.close();
    try {
      this.#assembled = await assembleTrace(this.jsonlPath, this.tracePath);
    } catch (error) {
      this.#fail(`Cannot assemble trace "${this.tracePath}": ${describeCause(error)}`);
    }
  }

  #encodeStatus(event: Extract<Event, { kind: "status" }>): string {
    const ts = tefMicroseconds(event.time);
    if (event.phase === "start") {
      // A second start without an exit in between: end the previous slice so B/E stay balanced.
      const previous = this.#runStart !== undefined
        ? this.#line("E", TRACE_TRACKS.run, Math.max(ts, this.#runStart), undefined, {
          args: { reason: "started again without an exit status" },
        })
        : "";
      this.#runStart = Math.max(ts, this.#runStart ?? ts);
      return previous +
        this.#line("B", TRACE_TRACKS.run, this.#runStart, this.#runName, {
          cat: "run",
          args: event.fields,
        });
    }
    if (event.phase === "exit" && this.#runStart !== undefined) {
      // Never before its B, even if the two times came from different clocks.
      const end = Math.max(ts, this.#runStart);
      this.#runStart = undefined;
      return this.#line("E", TRACE_TRACKS.run, end, undefined, { args: event.fields });
    }
    // Other phases, and an exit without a start (the service could not be spawned).
    return this.#line("i", TRACE_TRACKS.status, ts, event.message, {
      cat: event.phase,
      s: "t",
      args: event.fields,
    });
  }

  /** One JSON line; `ph` first so every line, and the assembled file, starts with `{"`. */
  #line(
    ph: string,
    tid: number,
    ts: number | undefined,
    name: string | undefined,
    extra: { cat?: string; s?: string; args?: unknown },
  ): string {
    return JSON.stringify({ ph, ts, pid: this.#pid, tid, name, ...extra }) + "\n";
  }

  #enqueue(text: string, events: number): void {
    this.#queue.push({ text, events });
    this.#queuedChars += text.length;
    this.#writing ??= this.#drain();
  }

  /** Write queued text in large batches, one at a time, until the queue is empty. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      let take = 0;
      let chars = 0;
      let events = 0;
      while (take < this.#queue.length && (take === 0 || chars < _WRITE_BATCH_CHARS)) {
        chars += this.#queue[take].text.length;
        events += this.#queue[take].events;
        take++;
      }
      const parts = this.#queue.splice(0, take).map((item) => item.text);
      try {
        await writeAll(this.#file, this.#textEncoder.encode(parts.join("")));
        this.#stats.sent += events;
        this.#problem = undefined;
      } catch (error) {
        this.#stats.dropped += events;
        this.#fail(`Cannot write trace file "${this.jsonlPath}": ${describeCause(error)}`);
      } finally {
        this.#queuedChars -= chars;
        this.#releaseWaiters();
      }
    }
    // Cleared in the same turn as the empty-queue check, so a later #enqueue starts a new drain.
    this.#writing = undefined;
  }

  #releaseWaiters(): void {
    if (this.#capacityWaiters.length === 0) return;
    if (this.#queuedChars >= this.#holdChars && this.#queue.length > 0) return;
    for (const resolve of this.#capacityWaiters.splice(0)) resolve();
  }

  #drop(events: number, reason: string): void {
    this.#stats.dropped += events;
    this.#problem = `${reason}: ${this.#stats.dropped} events dropped`;
  }

  #fail(message: string): void {
    this.#stats.errors++;
    this.#problem =
      `${message} (${this.#stats.errors} failed, ${this.#stats.dropped} events dropped)`;
  }
}

/** TEF objects as JSON lines (each object already has `ph` first). */
function _jsonLines(events: readonly Record<string, unknown>[]): string {
  return events.map((event) => JSON.stringify(event) + "\n").join("");
}
