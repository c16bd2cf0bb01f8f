/**
 * The Redis sink's connections: one {@linkcode RespClient} per database, its own or shared
 * through a pool, and what the sink does with all of them at once.
 *
 * @module
 */

import { RespClient, type RespClientOptions } from "../resp_client.ts";
import { redisConnectOptions } from "../redis_connection.ts";
import type { RedisSinkOptions } from "./options.ts";
import { DEFAULT_REDIS_DBS, type RedisDbRole } from "./keys.ts";
import { withTimeout } from "./with_timeout.ts";

/** What the sink hears from its connections. */
export interface ConnectionEvents {
  /** Connection of database `db` failed (and retries by itself). */
  error(db: number, error: unknown): void;
  /** A connection is ready. */
  ready(): void;
}

/** The databases in the order the sink uses them. */
export const REDIS_DB_ROLES: readonly RedisDbRole[] = ["logs", "values", "state"];

/** The sink's connection per database role; see the module documentation. */
export class SinkConnections {
  /** The connection of each database role. */
  readonly clients: Record<RedisDbRole, RespClient>;
  readonly #options: RedisSinkOptions;
  // Listeners on pooled connections, removed when this sink closes (the connection stays).
  readonly #detach: (() => void)[] = [];

  /** The connections of `options` (not connected yet), telling `events`. */
  constructor(options: RedisSinkOptions, events: ConnectionEvents) {
    this.#options = options;
    const dbs = { ...DEFAULT_REDIS_DBS, ...options.dbs };
    this.clients = {
      logs: this.#open(dbs.logs, events),
      values: this.#open(dbs.values, events),
      state: this.#open(dbs.state, events),
    };
  }

  /** Connect every connection (or wait for a pooled one), for at most `timeoutMs`: whether all are ready. */
  async connect(timeoutMs: number): Promise<boolean> {
    const connecting = Promise.allSettled(
      REDIS_DB_ROLES.map((db) => connectShared(this.clients[db])),
    );
    await withTimeout(connecting, timeoutMs, "").catch(() => {});
    return this.ready;
  }

  /** Whether every connection is ready. */
  get ready(): boolean {
    return REDIS_DB_ROLES.every((db) => this.clients[db].status === "ready");
  }

  /** Connect again what gave up (status `end`). */
  reopenEnded(): void {
    for (const db of REDIS_DB_ROLES) {
      const client = this.clients[db];
      if (client.status === "end") client.connect().catch(() => {});
    }
  }

  /** PING every connection; rejects when one fails or none answers within 2 s. */
  async ping(): Promise<void> {
    await withTimeout(
      Promise.all(REDIS_DB_ROLES.map((db) => this.clients[db].ping())),
      2000,
      "no answer to PING",
    );
  }

  /** PING the streams and values connections, and write `heartbeat` and `pid` into the state hash `key`. */
  async heartbeat(key: string, pid: string, time: string): Promise<void> {
    await withTimeout(
      Promise.all([
        this.clients.logs.ping(),
        this.clients.values.ping(),
        this.clients.state.hset(key, "heartbeat", time, "pid", pid),
      ]),
      5000,
      "no answer to PING",
    );
  }

  /** Close every connection now (what waits for a reply fails); with `reconnect`, connect again. */
  cut(reconnect: boolean): void {
    for (const db of REDIS_DB_ROLES) this.clients[db].disconnect(reconnect);
  }

  /** Stop listening to pooled connections. */
  detach(): void {
    for (const detach of this.#detach) detach();
  }

  /** Close the connections, or give them back to the pool. */
  async close(): Promise<void> {
    const pool = this.#options.pool;
    // No QUIT: every command sent has had its reply (that is what flushed means), so the
    // connections are closed at once instead of after a round trip each.
    await Promise.allSettled(REDIS_DB_ROLES.map(async (db) => {
      const client = this.clients[db];
      if (pool) return await pool.release(client);
      client.disconnect();
    }));
  }

  #open(db: number, events: ConnectionEvents): RespClient {
    const client = sinkClient(this.#options, db);
    const onError = (error: unknown) => events.error(db, error);
    const onReady = () => events.ready();
    client.on("error", onError);
    client.on("ready", onReady);
    if (this.#options.pool) {
      this.#detach.push(() => {
        client.off("error", onError);
        client.off("ready", onReady);
      });
    }
    return client;
  }
}

/** The connection of the sink for database `db`: from `options.pool` when there is one. */
export function sinkClient(options: RedisSinkOptions, db: number): RespClient {
  const clientOptions: RespClientOptions = {
    ...redisConnectOptions(options),
    db,
    connectionName: options.pool ? "wrapp" : `wrapp:${options.streamName}`,
    // The client queues nothing while disconnected (the sink has its own queue and
    // spool), and fails the commands awaiting replies as soon as the socket closes.
    connectTimeout: options.connectTimeoutMs ?? 5000,
    // No timer per command: the sink times whole pipelines instead.
    // Reconnect forever: 100 ms, 200 ms, … capped at 5 s.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 10), 5000),
  };
  const pool = options.pool;
  return pool
    ? pool.acquire({ ...options, db }, () => new RespClient(clientOptions))
    : new RespClient(clientOptions);
}

/**
 * Connect `client`, or, when another sink sharing it ({@linkcode RedisSinkOptions.pool})
 * already does, wait for that connection to be ready or fail.
 */
export function connectShared(client: RespClient): Promise<void> {
  if (client.status === "wait" || client.status === "end") return client.connect();
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      client.off("ready", done);
      client.off("error", done);
      client.off("end", done);
      if (error === undefined && client.status === "ready") resolve();
      else reject(error ?? new Error("connection closed"));
    };
    client.on("ready", done);
    client.on("error", done);
    client.on("end", done);
  });
}
