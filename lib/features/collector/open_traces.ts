/**
 * The traces a collector has open: one {@linkcode TraceWriter} per trace id, shared by
 * every client that opened it, so lines never interleave. A trace is closed (written,
 * assembled into its `EMIT_TEF_AT_EXIT` targets, forgotten) when its last client leaves.
 * Also: the check, before the collector starts, that the trace folder is writable.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { DebugLog } from "../../core/debug.ts";
import { describeCause, SinkError } from "../../core/errors.ts";
import { assembleTrace } from "../../pipeline/tef/assemble_trace.ts";
import { type CollectorStats, plural } from "./collector_stats.ts";
import { quoteTraceId, traceFileName } from "./trace_id.ts";
import { TraceWriter } from "./trace_writer.ts";

/** One open trace. */
export interface OpenTrace {
  readonly id: string;
  readonly path: string;
  readonly writer: TraceWriter;
  /** Connections that have it open. */
  clients: number;
  /** Paths to assemble the trace into when its last client leaves. */
  readonly atExit: Set<string>;
}

/** What {@linkcode OpenTraces} needs from its collector. */
export interface OpenTracesOptions {
  /** Folder of the `<trace-id>.jsonl` files. */
  dir: string;
  /** Longest time an event waits before it is written, in ms. */
  flushDelayMs: number;
  /** The collector's counters: traces opened, lines written and dropped, emits. */
  stats: CollectorStats;
  /** Keep a background task until the collector stops (it logs a failure). */
  track: (task: Promise<unknown>) => void;
  log: (message: string) => void;
  debug: DebugLog;
}

/** The open traces of one collector, by trace id. */
export class OpenTraces {
  readonly #traces = new Map<string, OpenTrace>();
  readonly #options: OpenTracesOptions;

  constructor(options: OpenTracesOptions) {
    this.#options = options;
  }

  /** Lines written and dropped by the writers of the traces open now. */
  writerTotals(): { written: number; dropped: number } {
    let written = 0;
    let dropped = 0;
    for (const trace of this.#traces.values()) {
      const stats = trace.writer.stats();
      written += stats.lines;
      dropped += stats.dropped;
    }
    return { written, dropped };
  }

  /** A client opens trace `id`: the open trace, or a new one (and its file). */
  attach(id: string): OpenTrace {
    let trace = this.#traces.get(id);
    if (trace === undefined) {
      const path = join(this.#options.dir, traceFileName(id));
      trace = {
        id,
        path,
        clients: 0,
        atExit: new Set(),
        writer: new TraceWriter(path, {
          flushDelayMs: this.#options.flushDelayMs,
          onError: (message) => this.#options.log(message),
        }),
      };
      this.#traces.set(id, trace);
      this.#options.stats.tracesOpened++;
      // Like tldrs, an opened trace has a file (and shows in "wrapp list") even before its first event.
      const writer = trace.writer;
      this.#options.track(
        writer.exclusive(() => _touch(path)).catch((error) => {
          this.#options.log(`Cannot create "${path}": ${describeCause(error)}`);
        }),
      );
    }
    trace.clients++;
    return trace;
  }

  /** A client leaves `trace`: the last one closes it, in the background. */
  release(trace: OpenTrace): void {
    trace.clients--;
    if (trace.clients === 0) this.#options.track(this.close(trace));
  }

  /** Close every trace still open (stragglers, once every client has left). */
  async closeAll(): Promise<void> {
    for (const trace of [...this.#traces.values()]) await this.close(trace);
  }

  /** The last client left: write, assemble the EMIT_TEF_AT_EXIT targets, forget the trace. */
  async close(trace: OpenTrace): Promise<void> {
    await trace.writer.flush();
    if (trace.clients > 0) return; // Reopened meanwhile: its next last client closes it.
    const targets = [...trace.atExit];
    trace.atExit.clear();
    for (const target of targets) await this.emit(trace, target, "EMIT_TEF_AT_EXIT");
    if (trace.clients > 0 || this.#traces.get(trace.id) !== trace) return;
    this.#traces.delete(trace.id);
    await trace.writer.close();
    const stats = trace.writer.stats();
    this.#options.stats.written += stats.lines;
    this.#options.stats.dropped += stats.dropped;
    this.#options.debug(
      `collector: closed trace ${quoteTraceId(trace.id)} (${stats.lines} lines written)`,
    );
  }

  /** Assemble `trace` so far into array-form JSON at `target` (for `word`), and log it. */
  async emit(trace: OpenTrace, target: string, word: string): Promise<void> {
    const { stats, log } = this.#options;
    try {
      const result = await trace.writer.exclusive(async () => {
        await _touch(trace.path);
        return await assembleTrace(trace.path, target, { mode: await _existingMode(target) });
      });
      stats.emitted++;
      log(
        `${word}: wrote trace ${quoteTraceId(trace.id)} (${plural(result.events, "event")}${
          result.skipped > 0 ? `, ${result.skipped} unreadable lines skipped` : ""
        }) to "${target}"`,
      );
    } catch (error) {
      stats.emitErrors++;
      log(
        `${word}: cannot write trace ${quoteTraceId(trace.id)} to "${target}": ${
          describeCause(error)
        }`,
      );
    }
  }
}

/** The permission bits of the regular file at `path`, or undefined when there is none. */
async function _existingMode(path: string): Promise<number | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && info.mode !== null ? info.mode & 0o777 : undefined;
  } catch {
    return undefined;
  }
}

/** Create `path` empty if missing (and its folder), leaving its content alone. */
async function _touch(path: string): Promise<void> {
  const options = { append: true, create: true, mode: 0o600 };
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, options);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    file = await Deno.open(path, options);
  }
  file.close();
}

/** Create the trace folder (0700) when missing and prove it writable, or throw a {@linkcode SinkError}. */
export async function checkWritableTraceDir(dir: string): Promise<void> {
  const probe = join(dir, `.wrapp-serve-probe-${Deno.pid}`);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await Deno.open(probe, { write: true, create: true, truncate: true });
    file.close();
    await Deno.remove(probe);
  } catch (error) {
    throw new SinkError(`Cannot write traces to "${dir}": ${describeCause(error)}`, {
      cause: error,
    });
  }
}
