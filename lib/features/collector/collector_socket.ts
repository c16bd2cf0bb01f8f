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

import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { describeCause } from "../../core/errors.ts";
import { now } from "../../core/event.ts";
import { type Frame, parseFrame, type RejectReason } from "./protocol.ts";
import { quoteTraceId } from "./trace_id.ts";
import { type ExclusiveSocket, listenExclusive } from "./unix_socket.ts";
import { type CollectorStats, emptyCollectorStats, plural } from "./collector_stats.ts";
import type { CollectedEvent, CollectorOptions, StopReason } from "./collector_options.ts";
import { checkWritableTraceDir, OpenTraces } from "./open_traces.ts";
import {
  armDrainTimer,
  closeConn,
  type CollectorClient,
  describeClient,
  hangUp,
  newCollectorClient,
  noTraceMessage,
} from "./collector_client.ts";

export { type CollectorStats, formatCollectorStats } from "./collector_stats.ts";
export type { CollectedEvent, CollectorOptions, StopReason } from "./collector_options.ts";

const _DEFAULT_MAX_LINE_BYTES = 1 << 20;
const _DEFAULT_MAX_PENDING_BYTES = 8 << 20;
/** Cuts logged one by one before the rest are only counted. */
const _LOGGED_CUTS = 10;
const _READ_BUFFER_BYTES = 64 << 10;
/** When stopping, every client still connected is hung up after this long (ms). */
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
  readonly #maxLoggedRejects: number;
  readonly #onEvent?: (event: CollectedEvent) => void;
  readonly #log: (message: string) => void;
  readonly #debug: DebugLog;
  readonly #traces: OpenTraces;
  readonly #clients = new Set<CollectorClient>();
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
    this.#maxLoggedRejects = options.maxLoggedRejects ?? 10;
    this.#onEvent = options.onEvent;
    this.#log = options.log ?? (() => {});
    this.#debug = options.debug ?? silentDebug;
    this.#stats = emptyCollectorStats();
    this.#traces = new OpenTraces({
      dir: this.dir,
      flushDelayMs: options.flushDelayMs ?? 5,
      stats: this.#stats,
      track: (task) => this.#track(task),
      log: this.#log,
      debug: this.#debug,
    });
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
    await checkWritableTraceDir(options.dir);
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
    const { written, dropped } = this.#traces.writerTotals();
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
    for (const client of this.#clients) armDrainTimer(client);
    const cap = setTimeout(() => {
      for (const client of this.#clients) hangUp(client);
    }, _DRAIN_MAX_MS);
    await this.#acceptLoop;
    await Promise.all(this.#clientLoops);
    clearTimeout(cap);
    await this.#settleTasks();
    // Every client has left, so every trace has been closed; this only catches stragglers.
    await this.#traces.closeAll();
    await this.#settleTasks();
    this.#resolveStopped(reason);
    return reason;
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
        closeConn(conn);
        return;
      }
      const client = newCollectorClient(this.#nextClient++, conn, this.#maxLineBytes);
      this.#stats.connections++;
      this.#clients.add(client);
      this.#debug(`collector: client ${client.number} connected`);
      const loop = this.#serve(client);
      this.#clientLoops.add(loop);
      loop.finally(() => this.#clientLoops.delete(loop));
    }
  }

  async #serve(client: CollectorClient): Promise<void> {
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
        if (this.#stopping && !client.done) armDrainTimer(client);
      }
      if (framer.pendingBytes > 0 && this.#stopping) {
        this.#log(
          `${
            describeClient(client)
          }: dropped an unfinished line of ${framer.pendingBytes} bytes at stop`,
        );
      }
    } finally {
      this.#pendingBytes -= client.held;
      client.held = 0;
      clearTimeout(client.drainTimer);
      closeConn(client.conn);
      const who = describeClient(client);
      this.#clients.delete(client);
      this.#detach(client);
      const summary = `${who} disconnected after ${client.line} lines: ${
        plural(client.events, "event")
      } accepted, ${plural(client.rejected, "line")} rejected`;
      if (client.rejected > 0) this.#log(summary);
      else this.#debug(`collector: ${summary}`);
      if (this.#dieWhenIdle && this.#clients.size === 0 && !this.#stopping) {
        this.#log("No client left after DIE_WHEN_IDLE: stopping");
        void this.stop("DIE_WHEN_IDLE");
      }
    }
  }

  /** Take the client's held bytes into the total; past the bound, cut the largest holders. */
  #account(client: CollectorClient): void {
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
            describeClient(largest)
          }: cut its unfinished line after ${freed} bytes (the rest is skipped): the unfinished lines of all connections held more than ${this.#maxPendingBytes} bytes, this one the most${
            cuts === _LOGGED_CUTS ? "; further cuts are counted, not logged" : ""
          }`,
        );
      }
    }
  }

  #handle(client: CollectorClient, frame: Frame): void {
    client.line++;
    const message = parseFrame(frame, this.#maxLineBytes);
    switch (message.type) {
      case "empty":
        return;
      case "event": {
        const trace = client.trace;
        if (trace === undefined) return this.#reject(client, "no_trace", noTraceMessage(client));
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
        client.trace = this.#traces.attach(message.traceId);
        this.#debug(`collector: ${describeClient(client)} opened "${client.trace.path}"`);
        return;
      case "emit_tef":
      case "emit_tef_at_exit": {
        const trace = client.trace;
        const word = message.type === "emit_tef" ? "EMIT_TEF" : "EMIT_TEF_AT_EXIT";
        if (trace === undefined) {
          return this.#reject(client, "no_trace", `${word} before OPEN: nothing to write`);
        }
        if (message.type === "emit_tef") {
          this.#track(this.#traces.emit(trace, message.path, word));
        } else {
          trace.atExit.add(message.path);
          this.#debug(
            `collector: trace ${quoteTraceId(trace.id)} goes to "${message.path}" at exit`,
          );
        }
        return;
      }
      case "die":
        this.#log(`${describeClient(client)} sent DIE: stopping`);
        client.done = true;
        // Not tracked: stopping waits for the tracked tasks, so it cannot be one.
        void this.stop("DIE");
        return;
      case "die_when_idle":
        this.#debug(`collector: ${describeClient(client)} sent DIE_WHEN_IDLE`);
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

  #reject(client: CollectorClient, reason: RejectReason, message: string): void {
    this.#stats.rejected[reason]++;
    client.rejected++;
    if (client.rejected <= this.#maxLoggedRejects) {
      this.#log(`${describeClient(client)}, line ${client.line}: ${message}`);
      if (client.rejected === this.#maxLoggedRejects) {
        this.#log(`${describeClient(client)}: further rejected lines are counted, not logged`);
      }
    }
  }

  #detach(client: CollectorClient): void {
    const trace = client.trace;
    if (trace === undefined) return;
    client.trace = undefined;
    this.#traces.release(trace);
  }
}
