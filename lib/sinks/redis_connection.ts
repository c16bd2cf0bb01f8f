/**
 * Connecting to Redis outside the sink (the control stream, `wrapp logs`), and turning
 * connection errors and error replies into short reasons. Passwords never appear in what this returns.
 *
 * @module
 */

import { RespClient } from "./resp_client.ts";
import { describeCause, WrappError } from "../errors.ts";
import type { RedisEndpoint } from "../config/redis_url.ts";

export type { RedisEndpoint };

/** `"host:port"` as shown in messages (IPv6 in brackets). */
export function redisAddress(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(":")
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/** Redis is unreachable or refused us. Exit code 69 (EX_UNAVAILABLE). */
export class RedisConnectionError extends WrappError {
  /** Create the error (exit code 69). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 69, cause: options.cause });
  }
}

/**
 * Open a client on database `db` and wait until it is ready, or throw
 * {@linkcode RedisConnectionError}: `Cannot connect to Redis at "10.0.0.2:6379": connection refused`.
 * The client reconnects by itself afterwards (blocking reads resume).
 */
export async function connectRedis(
  endpoint: RedisEndpoint,
  options: { db: number; name: string; connectTimeoutMs?: number },
): Promise<RespClient> {
  let lastError: unknown;
  const client = new RespClient({
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    tls: endpoint.tls,
    db: options.db,
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 10), 5000),
  });
  client.on("error", (error: unknown) => {
    // After a refused AUTH the ready check fails with NOAUTH: the first reason is the useful one.
    if (/^NOAUTH/.test(String((error as Error)?.message)) && lastError !== undefined) return;
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new RedisConnectionError(
      `Cannot connect to Redis at "${redisAddress(endpoint)}": ${
        describeRedisError(lastError ?? error)
      }`,
      { cause: error },
    );
  }
  return client;
}

/** A short reason: `connection refused`, `wrong username or password`. */
export function describeRedisError(error: unknown): string {
  if (error === undefined) return "unknown error";
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host";
    case "ETIMEDOUT":
      return "connection timed out";
    case "ECONNRESET":
    case "EPIPE":
      return "connection reset";
    case "EHOSTUNREACH":
      return "host unreachable";
    case "ENETUNREACH":
      return "network unreachable";
  }
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith("WRONGPASS")) return "wrong username or password (WRONGPASS)";
  if (message.startsWith("NOAUTH")) return "a password is required (NOAUTH)";
  if (message.startsWith("Stream isn't writeable")) return "not connected";
  if (
    message.startsWith("Connection is closed") ||
    message.startsWith("Command aborted due to connection close") ||
    (error as Error).name === "MaxRetriesPerRequestError"
  ) {
    return "connection lost";
  }
  return describeCause(error);
}
