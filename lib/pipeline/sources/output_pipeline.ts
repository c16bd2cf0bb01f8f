/**
 * One output stream of the child, from bytes to events:
 * bytes → {@linkcode LineSplitter} → {@linkcode MultilineJoiner} → {@linkcode MarkerExtractor} → router.
 *
 * The transforms are synchronous push objects rather than async generators: the hot
 * path then costs no promise per line, and the multi-line time limit can be driven by
 * a timer ({@linkcode OutputPipeline.tick}) even when no bytes arrive. That timer is
 * armed only while a block is open, for the moment it times out: a silent service
 * costs no wake-up at all.
 *
 * @module
 */

import type { Event, LogEvent, OutputStream } from "../../core/event.ts";
import { now } from "../../core/event.ts";
import type { OutputConfig } from "../../core/config/config.ts";
import { LineSplitter } from "../transforms/split_lines.ts";
import { MultilineJoiner } from "../transforms/join_multiline.ts";
import type { MarkerExtractor } from "../transforms/extract_markers.ts";

/** Receives the events a pipeline produces. */
export interface EventTarget {
  emitAll(events: readonly Event[]): void;
}

/** Frames one output stream into log and metric events. */
export class OutputPipeline {
  readonly stream: OutputStream;
  readonly #splitter: LineSplitter;
  readonly #joiner: MultilineJoiner;
  readonly #markers: MarkerExtractor | undefined;
  readonly #target: EventTarget;
  readonly #onLines: (() => void) | undefined;
  #lines = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor: number | undefined;

  /**
   * Frame `stream` with `output` settings; `markers` is shared by stdout and stderr so
   * counters add up; `onLines` is called after every chunk that completed a line (the
   * watchdog's `silence`).
   */
  constructor(
    stream: OutputStream,
    options: {
      output: OutputConfig;
      target: EventTarget;
      markers?: MarkerExtractor;
      onLines?: () => void;
    },
  ) {
    this.stream = stream;
    const { output } = options;
    this.#splitter = new LineSplitter({ maxLineBytes: output.maxLineBytes });
    this.#joiner = new MultilineJoiner(stream, {
      start: output.multilineStart,
      end: output.multilineEnd,
      maxLines: output.multilineMaxLines,
      maxBytes: output.multilineMaxBytes,
      timeoutMs: output.multilineTimeoutMs,
    });
    this.#markers = options.markers;
    this.#target = options.target;
    this.#onLines = options.onLines;
  }

  /** Source lines seen so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Feed a chunk of bytes as read from the child. */
  push(chunk: Uint8Array): void {
    const lines = this.#splitter.push(chunk);
    if (lines.length === 0) return;
    this.#lines += lines.length;
    this.#onLines?.();
    const time = now();
    const logs: LogEvent[] = [];
    for (const line of lines) this.#joiner.push(line, time, logs);
    const events: Event[] = [];
    this.#collect(logs, events);
    this.#target.emitAll(events);
    this.#arm();
  }

  /**
   * Let time-based limits fire (an open multi-line block past its timeout). The
   * pipeline calls it itself when a block's time is up; calling it more often is harmless.
   */
  tick(time: number = now()): void {
    const events: Event[] = [];
    this.#collect(this.#joiner.tick(time), events);
    this.#target.emitAll(events);
    this.#arm();
  }

  /** The stream ended: flush a trailing partial line and any open block. */
  end(time: number = now()): void {
    const events: Event[] = [];
    const lines = this.#splitter.end();
    this.#lines += lines.length;
    for (const line of lines) this.#collect(this.#joiner.push(line, time), events);
    this.#collect(this.#joiner.end(time), events);
    this.#target.emitAll(events);
    this.#arm();
  }

  /** Whether a timer waits for an open block's time limit (for tests). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** One timer, for the open block's deadline; none while no block is open. */
  #arm(): void {
    const deadline = this.#joiner.deadline;
    if (deadline === this.#armedFor) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = deadline;
    if (deadline === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedFor = undefined;
      this.tick(); // re-arms if the clock says the block is not quite due yet
    }, Math.max(0, Math.ceil(deadline - now())));
  }

  #collect(logs: readonly Event[], into: Event[]): void {
    for (const log of logs) {
      into.push(log);
      if (this.#markers && log.kind === "log") {
        for (const metric of this.#markers.extract(log)) into.push(metric);
      }
    }
  }
}

/**
 * Read `readable` to its end, echoing each chunk and feeding the pipeline. Resolves
 * when the stream ends or `stop` is aborted (a grandchild may hold the pipe open after
 * the child exits).
 */
export async function pumpOutput(
  readable: ReadableStream<Uint8Array>,
  pipeline: OutputPipeline,
  options: {
    /** Takes each chunk without waiting for it to be written (an `Echo` queues it): a stuck reader of wrapp's output must not stall the service. */
    echo?: { write(chunk: Uint8Array): void };
    stop?: AbortSignal;
    /** Called after each chunk; a returned promise is awaited (a sink asks the producer to wait). */
    backpressure?: () => Promise<void> | undefined;
  } = {},
): Promise<void> {
  // A byte stream (a child's pipe) is read into one reused buffer: the default reader
  // allocates (and zeroes) a fresh 64 KiB buffer for every read, which for a service
  // printing a line at a time was most of wrapp's allocation and much of its CPU.
  const byob = _byobReader(readable);
  const reader = byob ?? readable.getReader();
  let buffer = new Uint8Array(byob ? _READ_BYTES : 0);
  const read = async (): Promise<Uint8Array | undefined> => {
    if (!byob) {
      const { done, value } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      return done ? undefined : value;
    }
    const { done, value } = await byob.read(buffer);
    if (done || value === undefined) return undefined;
    buffer = new Uint8Array(value.buffer as ArrayBuffer); // the same memory, handed back
    return value;
  };
  const onAbort = () => reader.cancel().catch(() => {});
  options.stop?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const value = await read();
      if (value === undefined) break;
      if (value.length === 0) continue;
      pipeline.push(value);
      // The echo writes later, and a BYOB buffer is read into again.
      options.echo?.write(byob ? value.slice() : value);
      const wait = options.backpressure?.();
      if (wait) await wait;
    }
  } catch {
    // A cancelled or failed read ends this stream; what was read is already framed.
  } finally {
    options.stop?.removeEventListener("abort", onAbort);
    reader.releaseLock();
    pipeline.end();
  }
}

// Bytes asked for per read of a byte stream: a pipe holds 64 KiB by default.
const _READ_BYTES = 64 * 1024;

/** A BYOB reader of `readable` when it is a byte stream, else undefined. */
function _byobReader(
  readable: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | undefined {
  try {
    return readable.getReader({ mode: "byob" });
  } catch {
    return undefined; // not a byte stream
  }
}
