/**
 * The one writer of one trace file: every process that opens a trace id appends through
 * it, so lines from concurrent clients never interleave.
 *
 * Lines wait in a queue and are written in batches: the first line starts a short timer
 * (`flushDelayMs`, default 5 ms), and every line that arrives while a write is running
 * joins the next write (group commit). A batch is one `write` call on a file opened with
 * `O_APPEND`, holding whole lines only, so even another process appending to the same
 * file cannot split a line. The file is opened for each batch rather than held open, so
 * `wrapp clear` (or a user's `rm`) while the daemon runs loses nothing: the next batch
 * creates the file again, and its folder when that is gone too.
 *
 * @module
 */

import { dirname } from "node:path";
import { describeCause } from "../../core/errors.ts";
import { writeAll } from "../../pipeline/tef/assemble_trace.ts";

/** Options of {@linkcode TraceWriter}. */
export interface TraceWriterOptions {
  /** Longest time a line waits before its batch is written, in ms. Default 5. */
  flushDelayMs?: number;
  /** Queued characters at which a write starts without waiting for the timer. Default 256 Ki. */
  batchChars?: number;
  /** Queued characters above which {@linkcode TraceWriter.waitForCapacity} asks producers to wait. Default 8 Mi. */
  highWaterChars?: number;
  /** Permission bits of a file (and 0o700 for a folder) the writer creates. Default 0o600. */
  mode?: number;
  /** Told, with one sentence, about each failed write; its lines are counted as dropped. Default: ignore. */
  onError?: (message: string) => void;
}

/** Counters of a {@linkcode TraceWriter}. */
export interface TraceWriterStats {
  /** Lines written. */
  lines: number;
  /** Bytes written. */
  bytes: number;
  /** Write calls (batches). */
  writes: number;
  /** Lines lost to failed writes. */
  dropped: number;
  /** Failed writes. */
  errors: number;
}

const _encoder = new TextEncoder();

/** Appends whole lines to one file, in order, in batches. */
export class TraceWriter {
  /** The file written. */
  readonly path: string;
  readonly #flushDelayMs: number;
  readonly #batchChars: number;
  readonly #highWaterChars: number;
  readonly #mode: number;
  readonly #onError: (message: string) => void;
  #pending: string[] = [];
  #pendingChars = 0;
  /** A write is chained on `#tail` and has not started yet: it will take every pending line. */
  #queued = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tail: Promise<void> = Promise.resolve();
  #waiters: Array<() => void> = [];
  #closed = false;
  readonly #stats: TraceWriterStats = { lines: 0, bytes: 0, writes: 0, dropped: 0, errors: 0 };

  /** Write to `path` (created on the first write, with its folder when missing). */
  constructor(path: string, options: TraceWriterOptions = {}) {
    this.path = path;
    this.#flushDelayMs = options.flushDelayMs ?? 5;
    this.#batchChars = options.batchChars ?? 256 << 10;
    this.#highWaterChars = options.highWaterChars ?? 8 << 20;
    this.#mode = options.mode ?? 0o600;
    this.#onError = options.onError ?? (() => {});
  }

  /** Queue one line (without its `\n`; it must not contain one). */
  append(line: string): void {
    if (this.#closed) throw new Error(`TraceWriter for "${this.path}" is closed`);
    this.#pending.push(line);
    this.#pendingChars += line.length + 1;
    if (this.#queued) return;
    if (this.#pendingChars >= this.#batchChars) {
      this.#enqueue();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#enqueue(), this.#flushDelayMs);
    }
  }

  /** Characters queued and not yet written. */
  get pendingChars(): number {
    return this.#pendingChars;
  }

  /**
   * `undefined` while the queue is below the high-water mark, else a promise resolving
   * once a write has drained it. A connection awaits it before reading more, so a client
   * faster than the disk is slowed down by its socket buffer instead of growing memory.
   */
  waitForCapacity(): Promise<void> | undefined {
    if (this.#pendingChars < this.#highWaterChars) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Run `task` once every line queued so far is written, and before any line queued later
   * is: assembling `trace.json` from the file while no write can cut a line in half.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.#enqueue();
    const result = this.#tail.then(task);
    this.#tail = result.then(() => {}, () => {});
    return result;
  }

  /** Resolve once every line queued so far is written (or counted as dropped). */
  flush(): Promise<void> {
    return this.exclusive(() => Promise.resolve());
  }

  /** Flush, make the file durable (fsync) and refuse further lines. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return await this.#tail;
    await this.exclusive(() => this.#sync());
    this.#closed = true;
  }

  /** Current counters. */
  stats(): TraceWriterStats {
    return { ...this.#stats };
  }

  #enqueue(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queued) return;
    this.#queued = true;
    this.#tail = this.#tail.then(() => this.#writePending());
  }

  async #writePending(): Promise<void> {
    this.#queued = false;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingChars = 0;
    const bytes = _encoder.encode(lines.join("\n") + "\n");
    try {
      await this.#appendBytes(bytes);
      this.#stats.lines += lines.length;
      this.#stats.bytes += bytes.length;
      this.#stats.writes++;
    } catch (error) {
      this.#stats.errors++;
      this.#stats.dropped += lines.length;
      this.#onError(
        `Cannot append ${lines.length} event${lines.length === 1 ? "" : "s"} to "${this.path}": ${
          describeCause(error)
        }`,
      );
    }
    if (this.#pendingChars < this.#highWaterChars && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #appendBytes(bytes: Uint8Array): Promise<void> {
    const options = { append: true, create: true, mode: this.#mode };
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, options);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      file = await Deno.open(this.path, options);
    }
    try {
      // One call for the whole batch; writeAll only loops if the kernel writes less.
      await writeAll(file, bytes);
    } finally {
      file.close();
    }
  }

  async #sync(): Promise<void> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { write: true });
    } catch {
      return; // Never written, or removed: nothing to make durable.
    }
    try {
      await file.syncData();
    } catch (error) {
      this.#onError(`Cannot sync "${this.path}": ${describeCause(error)}`);
    } finally {
      file.close();
    }
  }
}
