/**
 * The trace collector: a unix-socket daemon speaking the tldrs protocol, so that many
 * short-lived processes can record one trace together.
 *
 * Every client opens a trace id (`OPEN <id>`) and sends TEF events, one JSON object per
 * line; every process that opens the same id appends to the same `<dir>/<id>.jsonl`,
 * through one {@linkcode TraceWriter} per trace, so lines never interleave. The protocol
 * is in `lib/features/collector/protocol.ts`; what happens when:
 *
 * - `EMIT_TEF <path>`: as soon as the events this client (and every other) sent before it
 *   are written, the trace is assembled into array-form JSON at `<path>`, like tldrs does
 *   right away in a background thread. Atomic: a temporary file renamed over the target.
 *   An existing target keeps its permission bits (a 0600 file stays 0600); a new one is
 *   0644 less the umask.
 * - `EMIT_TEF_AT_EXIT <path>`: remembered for the trace; the trace is assembled there when
 *   its last client disconnects (tldrs's "when all clients for trace exited"), or when the
 *   daemon stops while clients are still connected. The root process of the OCaml `trace`
 *   library's tldrs backend sends it.
 * - `DIE`: stop — no new clients, connected ones are closed, everything is written and
 *   synced, pending `EMIT_TEF_AT_EXIT` traces are assembled, the socket file is removed.
 * - `DIE_WHEN_IDLE`: stop the same way once no client is connected.
 *
 * A line that is not valid (see the protocol) is counted by reason and logged — the first
 * few per connection, then only counted — and the connection goes on.
 *
 * Memory: each connection holds at most one unfinished line of `maxLineBytes`, and all
 * connections together at most `maxPendingBytes`. Past that, the connection holding the
 * most has its unfinished line cut: freed at once, the rest of it skipped, counted
 * (`cut`), logged, and rejected as `memory` when it ends.
 *
 * For other sinks (Redis), pass `onEvent`: it sees every accepted event with its trace id.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { describeCause, SinkError } from "../../core/errors.ts";
import { now } from "../../core/event.ts";
import { assembleTrace } from "../../pipeline/tef/assemble_trace.ts";
import {
  type Frame,
  LineFramer,
  parseFrame,
  REJECT_REASONS,
  type RejectReason,
} from "./protocol.ts";
import { quoteTraceId, traceFileName } from "./trace_id.ts";
import { TraceWriter } from "./trace_writer.ts";
import { type ExclusiveSocket, listenExclusive } from "./unix_socket.ts";

/** One event a client sent, as handed to {@linkcode CollectorOptions.onEvent}. */
export interface CollectedEvent {
  /** The trace id the client opened. */
  readonly traceId: string;
  /** The parsed TEF event. */
  readonly event: Readonly<Record<string, unknown>>;
  /** The line as written to `<trace-id>.jsonl`. */
  readonly text: string;
  /** When the daemon read it, ms since the Unix epoch. */
  readonly time: number;
}

/** Options for {@linkcode CollectorServer.listen}. */
export interface CollectorOptions {
  /** Unix socket to listen on (created owner-only; a stale one is replaced, a live one refused). */
  socketPath: string;
  /** Folder of the `<trace-id>.jsonl` files; created (0700) when missing. */
  dir: string;
  /** Longest line accepted, in bytes; longer lines are dropped and counted. Default 1 MiB. */
  maxLineBytes?: number;
  /**
   * Most bytes of unfinished lines held across all connections; past it the largest is
   * cut. Default 8 MiB, or twice `maxLineBytes` when that is more.
   */
  maxPendingBytes?: number;
  /** Longest time an event waits before it is written, in ms. Default 5. */
  flushDelayMs?: number;
  /** Rejected lines logged per connection before the rest are only counted. Default 10. */
  maxLoggedRejects?: number;
  /**
   * Called with every accepted event, after it is queued for its file: the hook for more
   * sinks (Redis). It must return quickly and not throw (a throw is counted and logged).
   */
  onEvent?: (event: CollectedEvent) => void;
  /** Messages for the operator (rejected lines, traces written, stop). Default: none. */
  log?: (message: string) => void;
  /** Debug lines (every connection, OPEN, …). Default: none. */
  debug?: DebugLog;
}

/** Counters of a {@linkcode CollectorServer}. */
export interface CollectorStats {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  connected: number;
  /** Events accepted (queued for their trace file). */
  events: number;
  /** Events written to their trace file. */
  written: number;
  /** Events lost to failed writes (each failure is logged). */
  dropped: number;
  /** Lines rejected, by reason. */
  rejected: Record<RejectReason, number>;
  /** Trace files opened for writing (a trace reopened after all its clients left counts again). */
  tracesOpened: number;
  /** `trace.json` files written for EMIT_TEF and EMIT_TEF_AT_EXIT. */
  emitted: number;
  /** EMIT_TEF / EMIT_TEF_AT_EXIT that failed (logged). */
  emitErrors: number;
  /** `onEvent` calls that threw. */
  callbackErrors: number;
  /** Unfinished lines cut because all connections together held `maxPendingBytes`. */
  cut: number;
  /** Bytes of unfinished lines held now, across connections. */
  pendingBytes: number;
}

/** Why the collector stopped: `DIE`, `DIE_WHEN_IDLE`, a signal name, or what the caller passed. */
export type StopReason = string;

interface _Trace {
  readonly id: string;
  readonly path: string;
  readonly writer: TraceWriter;
  /** Connections that have it open. */
  clients: number;
  /** Paths to assemble the trace into when its last client leaves. */
  readonly atExit: Set<string>;
}

interface _Client {
  readonly number: number;
  readonly conn: Deno.UnixConn;
  readonly framer: LineFramer;
  /** `framer.heldBytes` as last added to the collector's total. */
  held: number;
  trace?: _Trace;
  /** Why the last OPEN was refused, for the message of the events that follow it. */
  refusedOpen?: number;
  line: number;
  events: number;
  rejected: number;
  /** Stop reading (after DIE, or when the daemon stops). */
  done: boolean;
  /** While stopping: hangs up once the client has sent nothing for a moment. */
  drainTimer?: ReturnType<typeof setTimeout>;
  /** Drain timer expiries since the client's last read. */
  idleStrikes: number;
}

const _DEFAULT_MAX_LINE_BYTES = 1 << 20;
const _DEFAULT_MAX_PENDING_BYTES = 8 << 20;
/** Cuts logged one by one before the rest are only counted. */
const _LOGGED_CUTS = 10;
const _READ_BUFFER_BYTES = 64 << 10;
/**
 * When stopping, a client is hung up once it has sent nothing for two periods of this
 * long (ms) — two, so the event loop has polled its socket in between…
 */
const _DRAIN_IDLE_MS = 50;
/** …or after this long in any case (ms). */
const _DRAIN_MAX_MS = 1000;

/** A running collector. Start it with {@linkcode CollectorServer.listen}. */
export class CollectorServer {
  /** The socket path listened on. */
  readonly socketPath: string;
  /** The trace folder. */
  readonly dir: string;
  /** Resolves with the reason once the collector has stopped and everything is written. */
  readonly stopped: Promise<StopReason>;

  readonly #socket: ExclusiveSocket;
  readonly #maxLineBytes: number;
  readonly #maxPendingBytes: number;
  #pendingBytes = 0;
  readonly #flushDelayMs: number;
  readonly #maxLoggedRejects: number;
  readonly #onEvent?: (event: CollectedEvent) => void;
  readonly #log: (message: string) => void;
  readonly #debug: DebugLog;
  readonly #traces = new Map<string, _Trace>();
  readonly #clients = new Set<_Client>();
  readonly #clientLoops = new Set<Promise<void>>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #stats: CollectorStats;
  #acceptLoop: Promise<void> = Promise.resolve();
  #stopping: Promise<StopReason> | undefined;
  #resolveStopped!: (reason: StopReason) => void;
  #dieWhenIdle = false;
  #nextClient = 1;

  private constructor(socket: ExclusiveSocket, options: CollectorOptions) {
    this.#socket = socket;
    this.socketPath = socket.path;
    this.dir = options.dir;
    this.#maxLineBytes = options.maxLineBytes ?? _DEFAULT_MAX_LINE_BYTES;
    this.#maxPendingBytes = options.maxPendingBytes ??
      Math.max(_DEFAULT_MAX_PENDING_BYTES, 2 * this.#maxLineBytes);
    this.#flushDelayMs = options.flushDelayMs ?? 5;
    this.#maxLoggedRejects = options.maxLoggedRejects ?? 10;
    this.#onEvent = options.onEvent;
    this.#log = options.log ?? (() => {});
    this.#debug = options.debug ?? silentDebug;
    this.#stats = {
      connections: 0,
      connected: 0,
      events: 0,
      written: 0,
      dropped: 0,
      rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<
        RejectReason,
        number
      >,
      tracesOpened: 0,
      emitted: 0,
      emitErrors: 0,
      callbackErrors: 0,
      cut: 0,
      pendingBytes: 0,
    };
    this.stopped = new Promise((resolve) => this.#resolveStopped = resolve);
  }

  /**
   * Create the trace folder, take the socket and start accepting clients. Throws a
   * {@linkcode SinkError} when the folder is not writable and a `WrappError` when the
   * socket cannot be taken (`another wrapp serve (pid 1234) is running`).
   */
  static async listen(options: CollectorOptions): Promise<CollectorServer> {
    const maxLineBytes = options.maxLineBytes ?? _DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`Invalid maxLineBytes "${maxLineBytes}": expected a positive integer`);
    }
    const maxPending = options.maxPendingBytes;
    if (maxPending !== undefined && (!Number.isSafeInteger(maxPending) || maxPending < 1)) {
      throw new RangeError(`Invalid maxPendingBytes "${maxPending}": expected a positive integer`);
    }
    await _checkWritableDir(options.dir);
    const socket = await listenExclusive(options.socketPath);
    const server = new CollectorServer(socket, options);
    if (socket.replacedStale) {
      server.#log(`Replaced the stale socket "${socket.path}" left by a collector that died`);
    }
    server.#acceptLoop = server.#accept();
    return server;
  }

  /**
   * Stop: the socket file is removed so no new client comes; connected clients are read
   * until they have been silent for about 100 ms (at most 1 s), so what they already sent is
   * kept, then hung up (a partial last line is dropped and logged); every queued event is
   * written and synced and pending `EMIT_TEF_AT_EXIT` traces are assembled. Resolves with
   * the reason of the first call.
   */
  stop(reason: StopReason = "stop"): Promise<StopReason> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  /** Current counters. */
  stats(): CollectorStats {
    let written = 0;
    let dropped = 0;
    for (const trace of this.#traces.values()) {
      const stats = trace.writer.stats();
      written += stats.lines;
      dropped += stats.dropped;
    }
    return {
      ...this.#stats,
      rejected: { ...this.#stats.rejected },
      written: this.#stats.written + written,
      dropped: this.#stats.dropped + dropped,
      connected: this.#clients.size,
      pendingBytes: this.#pendingBytes,
    };
  }

  async #stop(reason: StopReason): Promise<StopReason> {
    this.#debug(`collector: stopping (${reason})`);
    this.#socket.release();
    for (const client of this.#clients) this.#armDrainTimer(client);
    const cap = setTimeout(() => {
      for (const client of this.#clients) this.#hangUp(client);
    }, _DRAIN_MAX_MS);
    await this.#acceptLoop;
    await Promise.all(this.#clientLoops);
    clearTimeout(cap);
    await this.#settleTasks();
    // Every client has left, so every trace has been closed; this only catches stragglers.
    for (const trace of [...this.#traces.values()]) await this.#closeTrace(trace);
    await this.#settleTasks();
    this.#resolveStopped(reason);
    return reason;
  }

  #armDrainTimer(client: _Client): void {
    clearTimeout(client.drainTimer);
    client.drainTimer = setTimeout(() => {
      if (++client.idleStrikes >= 2) this.#hangUp(client);
      else this.#armDrainTimer(client);
    }, _DRAIN_IDLE_MS);
  }

  #hangUp(client: _Client): void {
    clearTimeout(client.drainTimer);
    client.done = true;
    _close(client.conn);
  }

  async #settleTasks(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  #track(task: Promise<unknown>): void {
    const settled = task.catch((error) => this.#log(`Internal error: ${describeCause(error)}`))
      .finally(() => this.#tasks.delete(settled));
    this.#tasks.add(settled);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#socket.listener.accept();
      } catch (error) {
        if (this.#stopping || error instanceof Deno.errors.BadResource) return;
        this.#log(`Cannot accept a connection: ${describeCause(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#stopping) {
        _close(conn);
        return;
      }
      const client: _Client = {
        number: this.#nextClient++,
        conn,
        framer: new LineFramer(this.#maxLineBytes),
        held: 0,
        line: 0,
        events: 0,
        rejected: 0,
        done: false,
        idleStrikes: 0,
      };
      this.#stats.connections++;
      this.#clients.add(client);
      this.#debug(`collector: client ${client.number} connected`);
      const loop = this.#serve(client);
      this.#clientLoops.add(loop);
      loop.finally(() => this.#clientLoops.delete(loop));
    }
  }

  async #serve(client: _Client): Promise<void> {
    const framer = client.framer;
    const buffer = new Uint8Array(_READ_BUFFER_BYTES);
    try {
      while (!client.done) {
        let n: number | null;
        try {
          n = await client.conn.read(buffer);
        } catch (error) {
          if (!client.done) {
            this.#debug(`collector: client ${client.number}: ${describeCause(error)}`);
          }
          break;
        }
        if (n === null) {
          // tldrs reads a last line without "\n" too.
          for (const frame of framer.end()) this.#handle(client, frame);
          break;
        }
        client.idleStrikes = 0;
        const frames = framer.push(buffer.subarray(0, n));
        this.#account(client);
        for (const frame of frames) {
          this.#handle(client, frame);
          if (client.done) break;
        }
        const wait = client.trace?.writer.waitForCapacity();
        if (wait) await wait;
        // Stopping: the idle time counts from now, not from before the work above.
        if (this.#stopping && !client.done) this.#armDrainTimer(client);
      }
      if (framer.pendingBytes > 0 && this.#stopping) {
        this.#log(
          `${
            this.#who(client)
          }: dropped an unfinished line of ${framer.pendingBytes} bytes at stop`,
        );
      }
    } finally {
      this.#pendingBytes -= client.held;
      client.held = 0;
      clearTimeout(client.drainTimer);
      _close(client.conn);
      const who = this.#who(client);
      this.#clients.delete(client);
      this.#detach(client);
      const summary = `${who} disconnected after ${client.line} lines: ${
        _plural(client.events, "event")
      } accepted, ${_plural(client.rejected, "line")} rejected`;
      if (client.rejected > 0) this.#log(summary);
      else this.#debug(`collector: ${summary}`);
      if (this.#dieWhenIdle && this.#clients.size === 0 && !this.#stopping) {
        this.#log("No client left after DIE_WHEN_IDLE: stopping");
        void this.stop("DIE_WHEN_IDLE");
      }
    }
  }

  /** Take the client's held bytes into the total; past the bound, cut the largest holders. */
  #account(client: _Client): void {
    const held = client.framer.heldBytes;
    this.#pendingBytes += held - client.held;
    client.held = held;
    while (this.#pendingBytes > this.#maxPendingBytes) {
      let largest = client;
      for (const other of this.#clients) if (other.held > largest.held) largest = other;
      const freed = largest.framer.cut();
      this.#pendingBytes -= freed;
      largest.held = 0;
      if (freed === 0) break; // cannot happen while the total is positive; never spin
      const cuts = ++this.#stats.cut;
      if (cuts <= _LOGGED_CUTS) {
        this.#log(
          `${
            this.#who(largest)
          }: cut its unfinished line after ${freed} bytes (the rest is skipped): the unfinished lines of all connections held more than ${this.#maxPendingBytes} bytes, this one the most${
            cuts === _LOGGED_CUTS ? "; further cuts are counted, not logged" : ""
          }`,
        );
      }
    }
  }

  #handle(client: _Client, frame: Frame): void {
    client.line++;
    const message = parseFrame(frame, this.#maxLineBytes);
    switch (message.type) {
      case "empty":
        return;
      case "event": {
        const trace = client.trace;
        if (trace === undefined) return this.#reject(client, "no_trace", this.#noTrace(client));
        trace.writer.append(message.text);
        this.#stats.events++;
        client.events++;
        if (this.#onEvent) {
          try {
            this.#onEvent({
              traceId: trace.id,
              event: message.event,
              text: message.text,
              time: now(),
            });
          } catch (error) {
            if (this.#stats.callbackErrors++ === 0) {
              this.#log(
                `The event callback failed (further failures are only counted): ${
                  describeCause(error)
                }`,
              );
            }
          }
        }
        return;
      }
      case "open":
        if (client.trace?.id === message.traceId) return;
        this.#detach(client);
        client.refusedOpen = undefined;
        client.trace = this.#attach(message.traceId);
        this.#debug(`collector: ${this.#who(client)} opened "${client.trace.path}"`);
        return;
      case "emit_tef":
      case "emit_tef_at_exit": {
        const trace = client.trace;
        const word = message.type === "emit_tef" ? "EMIT_TEF" : "EMIT_TEF_AT_EXIT";
        if (trace === undefined) {
          return this.#reject(client, "no_trace", `${word} before OPEN: nothing to write`);
        }
        if (message.type === "emit_tef") {
          this.#track(this.#emit(trace, message.path, word));
        } else {
          trace.atExit.add(message.path);
          this.#debug(
            `collector: trace ${quoteTraceId(trace.id)} goes to "${message.path}" at exit`,
          );
        }
        return;
      }
      case "die":
        this.#log(`${this.#who(client)} sent DIE: stopping`);
        client.done = true;
        // Not tracked: stopping waits for the tracked tasks, so it cannot be one.
        void this.stop("DIE");
        return;
      case "die_when_idle":
        this.#debug(`collector: ${this.#who(client)} sent DIE_WHEN_IDLE`);
        this.#dieWhenIdle = true;
        return;
      case "invalid":
        if (message.reason === "trace_id") {
          // Events after a refused OPEN must not land in the previously open trace.
          this.#detach(client);
          client.refusedOpen = client.line;
        }
        return this.#reject(client, message.reason, message.message);
    }
  }

  #noTrace(client: _Client): string {
    return client.refusedOpen === undefined
      ? 'event before OPEN: send "OPEN <trace-id>" first'
      : `event without a trace: the OPEN on line ${client.refusedOpen} was refused`;
  }

  #reject(client: _Client, reason: RejectReason, message: string): void {
    this.#stats.rejected[reason]++;
    client.rejected++;
    if (client.rejected <= this.#maxLoggedRejects) {
      this.#log(`${this.#who(client)}, line ${client.line}: ${message}`);
      if (client.rejected === this.#maxLoggedRejects) {
        this.#log(`${this.#who(client)}: further rejected lines are counted, not logged`);
      }
    }
  }

  #who(client: _Client): string {
    return client.trace
      ? `client ${client.number} (trace ${quoteTraceId(client.trace.id)})`
      : `client ${client.number}`;
  }

  #attach(id: string): _Trace {
    let trace = this.#traces.get(id);
    if (trace === undefined) {
      const path = join(this.dir, traceFileName(id));
      trace = {
        id,
        path,
        clients: 0,
        atExit: new Set(),
        writer: new TraceWriter(path, {
          flushDelayMs: this.#flushDelayMs,
          onError: (message) => this.#log(message),
        }),
      };
      this.#traces.set(id, trace);
      this.#stats.tracesOpened++;
      // Like tldrs, an opened trace has a file (and shows in "wrapp list") even before its first event.
      const writer = trace.writer;
      this.#track(
        writer.exclusive(() => _touch(path)).catch((error) => {
          this.#log(`Cannot create "${path}": ${describeCause(error)}`);
        }),
      );
    }
    trace.clients++;
    return trace;
  }

  #detach(client: _Client): void {
    const trace = client.trace;
    if (trace === undefined) return;
    client.trace = undefined;
    trace.clients--;
    if (trace.clients === 0) this.#track(this.#closeTrace(trace));
  }

  /** The last client left: write, assemble the EMIT_TEF_AT_EXIT targets, forget the trace. */
  async #closeTrace(trace: _Trace): Promise<void> {
    await trace.writer.flush();
    if (trace.clients > 0) return; // Reopened meanwhile: its next last client closes it.
    const targets = [...trace.atExit];
    trace.atExit.clear();
    for (const target of targets) await this.#emit(trace, target, "EMIT_TEF_AT_EXIT");
    if (trace.clients > 0 || this.#traces.get(trace.id) !== trace) return;
    this.#traces.delete(trace.id);
    await trace.writer.close();
    const stats = trace.writer.stats();
    this.#stats.written += stats.lines;
    this.#stats.dropped += stats.dropped;
    this.#debug(`collector: closed trace ${quoteTraceId(trace.id)} (${stats.lines} lines written)`);
  }

  async #emit(trace: _Trace, target: string, word: string): Promise<void> {
    try {
      const result = await trace.writer.exclusive(async () => {
        await _touch(trace.path);
        return await assembleTrace(trace.path, target, { mode: await _existingMode(target) });
      });
      this.#stats.emitted++;
      this.#log(
        `${word}: wrote trace ${quoteTraceId(trace.id)} (${_plural(result.events, "event")}${
          result.skipped > 0 ? `, ${result.skipped} unreadable lines skipped` : ""
        }) to "${target}"`,
      );
    } catch (error) {
      this.#stats.emitErrors++;
      this.#log(
        `${word}: cannot write trace ${quoteTraceId(trace.id)} to "${target}": ${
          describeCause(error)
        }`,
      );
    }
  }
}

/**
 * One line summing up a collector's counters, for its stop message:
 * `12 connections, 10000 events written, 2 lines rejected (json 1, trace_id 1)`.
 */
export function formatCollectorStats(stats: CollectorStats): string {
  const rejected = Object.entries(stats.rejected).filter(([, n]) => n > 0);
  const total = rejected.reduce((sum, [, n]) => sum + n, 0);
  const parts = [
    _plural(stats.connections, "connection"),
    `${_plural(stats.written, "event")} written`,
    `${_plural(total, "line")} rejected${
      total > 0 ? ` (${rejected.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : ""
    }`,
  ];
  if (stats.dropped > 0) parts.push(`${_plural(stats.dropped, "event")} lost to write errors`);
  if (stats.cut > 0) {
    parts.push(`${_plural(stats.cut, "unfinished line")} cut to bound memory`);
  }
  if (stats.emitted > 0) parts.push(`${_plural(stats.emitted, "trace.json file")} written`);
  if (stats.emitErrors > 0) parts.push(`${_plural(stats.emitErrors, "EMIT_TEF")} failed`);
  return parts.join(", ");
}

function _plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function _close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
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
async function _checkWritableDir(dir: string): Promise<void> {
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
