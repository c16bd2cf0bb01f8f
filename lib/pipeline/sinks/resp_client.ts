/**
 * A small Redis client (RESP2 over `Deno.connect` / `Deno.connectTls`): the few commands
 * wrapp sends, pipelined, on one connection that reconnects by itself.
 *
 * wrapp used ioredis; loading it (and the Node compatibility layer under it) cost about
 * 190 ms of every `wrapp run` start and about 25 MiB of resident memory for as long as the
 * service ran. This client has the part of ioredis's surface wrapp used (`status`, the
 * `ready`/`error`/`end` events, `connect`, `pipeline`, `call`, `quit`, `disconnect`), with
 * ioredis's meaning, so the sink, the control stream, `wrapp logs` and `wrapp doctor` read
 * the same. There is no offline queue: a command sent while the connection is not ready
 * fails at once (the sink has its own queue and spool), and a connection that closes fails
 * every command waiting for a reply.
 *
 * @module
 */

import {
  RESP_INCOMPLETE,
  type RespArg,
  type RespReply,
  RespReplyBuffer,
  RespReplyError,
} from "./resp_protocol.ts";
import { RespPipeline, type RespWaiter } from "./resp_pipeline.ts";
import { encodeRespCommand } from "./resp_writer.ts";
import {
  connectionError,
  connectWithTimeout,
  isSentinelError,
  notWritable,
} from "./resp_errors.ts";
import { askSentinels } from "./resp_sentinels.ts";
import { handshake } from "./resp_handshake.ts";
import { startTimer, type Timer } from "../../core/timers.ts";

export { type RespArg, type RespReply, RespReplyError } from "./resp_protocol.ts";
export { RespPipeline } from "./resp_pipeline.ts";

/** The connection's state, as ioredis names it. */
export type RespStatus = "wait" | "connecting" | "ready" | "reconnecting" | "end";

/** Options of {@linkcode RespClient}. */
export interface RespClientOptions {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** ACL user (Redis 6+); with `password`, `AUTH <username> <password>`. */
  username?: string;
  /** Password: `AUTH` before anything else. */
  password?: string;
  /** Connect with TLS. */
  tls?: boolean;
  /** Database selected on every (re)connection. Default 0. */
  db?: number;
  /** `CLIENT SETNAME`, as `CLIENT LIST` shows it. */
  connectionName?: string;
  /** Longest wait for the TCP (and TLS) connection, ms. Default 10000. */
  connectTimeout?: number;
  /**
   * After the connection failed or was lost: how long to wait before the `times`-th
   * attempt (1, 2, …), ms; `null` gives up (status `end`). Default: never reconnect.
   */
  retryStrategy?: (times: number) => number | null;
  /**
   * Redis Sentinels asked for the master's address at every (re)connection, so a failover
   * is followed; `host` and `port` are then not used. A master that says it is a replica
   * (`ROLE`), or answers a write with `READONLY` (demoted), makes the client ask again.
   */
  sentinels?: readonly { host: string; port: number }[];
  /** The master's name at the Sentinels (`sentinel monitor NAME …`). */
  masterName?: string;
  /** ACL user for the Sentinels. */
  sentinelUsername?: string;
  /** Password for the Sentinels. */
  sentinelPassword?: string;
}

type Listener = (value?: unknown) => void;

/** One connection to Redis; see the module documentation. */
export class RespClient {
  /** `wait` before the first connect(), `ready` once usable, `end` after disconnect() or giving up. */
  status: RespStatus = "wait";
  readonly #options: RespClientOptions;
  readonly #listeners = new Map<string, Set<Listener>>();
  #conn: Deno.Conn | undefined;
  // Replies are matched to commands in order: the oldest waiter takes the next reply.
  #waiters: RespWaiter[] = [];
  #waiterHead = 0;
  #writing: Promise<void> = Promise.resolve();
  #replies = new RespReplyBuffer();
  #attempts = 0;
  #retryTimer: Timer | undefined;
  // Bumped by every (re)connection and disconnect: a stale reader or handshake stands down.
  #generation = 0;
  #manualClose = false;
  #address: { host: string; port: number } | undefined;

  /** A client for `options`; nothing happens before {@linkcode RespClient.connect}. */
  constructor(options: RespClientOptions) {
    this.#options = options;
  }

  /** The current connection, as an identity: another object after every reconnection. */
  get connection(): Deno.Conn | undefined {
    return this.#conn;
  }

  /** The server of the current connection (with Sentinels, the master they named). */
  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /** Listen for `ready` (connected and set up), `error` (with the error) or `end` (closed for good). */
  on(event: "ready" | "error" | "end", listener: Listener): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener);
    return this;
  }

  /** Stop listening. */
  off(event: "ready" | "error" | "end", listener: Listener): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  /**
   * Connect, authenticate, select the database and name the connection. Resolves when the
   * client is `ready`; rejects with the first failure (then, with a `retryStrategy`, the
   * client goes on trying by itself, as ioredis does).
   */
  connect(): Promise<void> {
    if (this.status === "ready") return Promise.resolve();
    if (this.status === "connecting" || this.status === "reconnecting") {
      return Promise.reject(new Error("Redis is already connecting/connected"));
    }
    this.#manualClose = false;
    this.#attempts = 0;
    return this.#open();
  }

  /** Send one command; resolves with its reply, rejects with a {@linkcode RespReplyError} or a connection error. */
  call(command: string, ...args: RespArg[]): Promise<RespReply> {
    return new Promise((resolve, reject) => {
      if (!this.#send(encodeRespCommand(command, args), [{ resolve, reject }])) {
        reject(notWritable());
      }
    }).then((reply) => {
      if (reply instanceof RespReplyError) throw reply;
      return reply as RespReply;
    });
  }

  /** `PING` → `"PONG"`. */
  ping(): Promise<RespReply> {
    return this.call("PING");
  }

  /** `HSET key field value …`. */
  hset(key: string, ...fieldsAndValues: RespArg[]): Promise<RespReply> {
    return this.call("HSET", key, ...fieldsAndValues);
  }

  /** `XREAD …`: `[[key, [[id, [field, value, …]], …]], …]`, or `null`. */
  xread(...args: RespArg[]): Promise<[string, [string, string[]][]][] | null> {
    return this.call("XREAD", ...args) as Promise<[string, [string, string[]][]][] | null>;
  }

  /** `XREVRANGE key end start [COUNT n]`: `[[id, [field, value, …]], …]`. */
  xrevrange(key: string, ...args: RespArg[]): Promise<[string, string[]][]> {
    return this.call("XREVRANGE", key, ...args) as Promise<[string, string[]][]>;
  }

  /** Commands sent together, in one write; see {@linkcode RespPipeline}. */
  pipeline(): RespPipeline {
    return new RespPipeline((bytes, waiters) => this.#send(bytes, waiters));
  }

  /** `QUIT`: waits for its reply, then closes for good (status `end`). */
  async quit(): Promise<void> {
    try {
      if (this.status === "ready") await this.call("QUIT");
    } finally {
      this.disconnect();
    }
  }

  /**
   * Close at once: every command waiting for a reply fails. With `reconnect`, connect again
   * right away (a hung server's commands are given up this way); else the client ends.
   */
  disconnect(reconnect = false): void {
    this.#retryTimer?.clear();
    this.#retryTimer = undefined;
    this.#manualClose = !reconnect;
    this.#generation++;
    this.#closeConn();
    this.#failWaiters(new Error("Connection is closed."));
    if (reconnect) {
      this.#attempts = 0;
      this.#open().catch(() => {}); // failures go to the "error" listeners
      return;
    }
    this.#setEnd();
  }

  // ---- connecting ----

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    this.status = this.#attempts > 0 ? "reconnecting" : "connecting";
    let { host, port } = this.#options;
    let conn: Deno.Conn | undefined;
    try {
      if (this.#options.sentinels?.length) {
        ({ host, port } = await askSentinels(this.#options, (options) => new RespClient(options)));
      }
      this.#address = { host, port };
      conn = await connectWithTimeout<Deno.Conn>(
        this.#options.tls
          ? Deno.connectTls({ hostname: host, port })
          : Deno.connect({ hostname: host, port }),
        this.#options.connectTimeout ?? 10_000,
      );
      if (generation !== this.#generation) {
        conn.close(); // disconnect() came first
        throw new Error("Connection is closed.");
      }
      if (!this.#options.tls) (conn as Deno.TcpConn).setNoDelay?.(true);
      this.#conn = conn;
      this.#replies = new RespReplyBuffer();
      this.#writing = Promise.resolve();
      void this.#read(conn, generation);
      // AUTH, SETNAME, SELECT, ROLE; not ready while Redis is still loading its data set.
      await handshake(this.#options, {
        pipeline: () => new RespPipeline((bytes, waiters) => this.#send(bytes, waiters, true)),
        current: () => generation === this.#generation,
        address: () => this.#address,
      });
      if (generation !== this.#generation) throw new Error("Connection is closed.");
    } catch (error) {
      const failure = connectionError(error);
      if (this.#options.sentinels?.length && !isSentinelError(failure)) {
        // Which master failed: the Sentinels may name another one next time.
        Object.assign(failure, { address: host, port });
      }
      if (generation === this.#generation) {
        this.#generation++; // its reader stands down: this failure is told once, here
        this.#closeConn();
        this.#failWaiters(failure);
        this.#emit("error", failure);
        this.#scheduleRetry();
      }
      throw failure;
    }
    this.#attempts = 0;
    this.status = "ready";
    this.#emit("ready");
  }

  #scheduleRetry(): void {
    const strategy = this.#options.retryStrategy;
    const delay = this.#manualClose || !strategy ? null : strategy(++this.#attempts);
    if (delay === null || delay === undefined) {
      this.#setEnd();
      return;
    }
    this.status = "reconnecting";
    this.#retryTimer = startTimer(() => {
      this.#retryTimer = undefined;
      this.#open().catch(() => {}); // told through the "error" listeners
    }, delay);
  }

  #setEnd(): void {
    if (this.status === "end") return;
    this.status = "end";
    this.#emit("end");
  }

  #closeConn(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }

  /** The connection was lost (not by disconnect()): fail what waits, reconnect by strategy. */
  #lost(generation: number, error: Error): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    this.#closeConn();
    this.#failWaiters(error);
    this.#emit("error", error);
    this.#scheduleRetry();
  }

  #emit(event: string, value?: unknown): void {
    for (const listener of [...this.#listeners.get(event) ?? []]) listener(value);
  }

  // ---- writing and reading ----

  /** Queue `bytes` for writing and `waiters` for their replies; false when not connected. */
  #send(bytes: Uint8Array, waiters: RespWaiter[], handshake = false): boolean {
    const conn = this.#conn;
    if (!conn || (this.status !== "ready" && !handshake)) return false;
    for (const waiter of waiters) this.#waiters.push(waiter);
    const generation = this.#generation;
    this.#writing = this.#writing.then(async () => {
      if (generation !== this.#generation) return;
      try {
        for (let written = 0; written < bytes.length;) {
          written += await conn.write(bytes.subarray(written));
        }
      } catch (error) {
        this.#lost(generation, connectionError(error));
      }
    });
    return true;
  }

  async #read(conn: Deno.Conn, generation: number): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (generation === this.#generation) {
        const n = await conn.read(chunk);
        if (n === null) break;
        if (generation !== this.#generation) return;
        this.#replies.append(chunk.subarray(0, n));
        this.#parseReplies();
      }
    } catch (error) {
      this.#lost(generation, connectionError(error));
      return;
    }
    const closed = new Error("Connection is closed.");
    (closed as { code?: string }).code = "ECONNRESET";
    this.#lost(generation, closed);
  }

  #parseReplies(): void {
    for (;;) {
      const waiter = this.#waiters[this.#waiterHead];
      const reply = this.#replies.next(waiter?.textless === true);
      if (reply === RESP_INCOMPLETE) return;
      if (waiter === undefined) continue; // a reply nobody waits for (cannot happen in RESP2)
      this.#waiters[this.#waiterHead++] = undefined!;
      if (this.#waiterHead >= 1024 && this.#waiterHead * 2 >= this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#waiterHead);
        this.#waiterHead = 0;
      }
      waiter.resolve(reply);
      if (
        reply instanceof RespReplyError && reply.message.startsWith("READONLY") &&
        this.#options.sentinels?.length
      ) {
        // A master demoted by a failover: ask the Sentinels for the new one.
        const generation = this.#generation;
        queueMicrotask(() => this.#lost(generation, reply));
      }
    }
  }

  #failWaiters(error: Error): void {
    const waiters = this.#waiters.slice(this.#waiterHead);
    this.#waiters = [];
    this.#waiterHead = 0;
    for (const waiter of waiters) waiter.reject(error);
  }
}
