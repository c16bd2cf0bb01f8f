/**
 * The Redis sink's connections: one {@linkcode RespClient} per database, its own or shared
 * through a pool, and how the sink waits for one to be ready.
 *
 * @module
 */

import { RespClient, type RespClientOptions } from "../resp_client.ts";
import { redisConnectOptions } from "../redis_connection.ts";
import type { RedisSinkOptions } from "./options.ts";

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
