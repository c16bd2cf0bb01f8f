/**
 * Connecting to Redis outside the sink (the control stream, `wrapp logs`), and turning
 * connection errors and error replies into short reasons. Passwords never appear in what this returns.
 *
 * @module
 */

import { RespClient, type RespClientOptions } from "./resp_client.ts";
import { describeCause, WrappError } from "../../core/errors.ts";
import { parseHostPort, type RedisEndpoint, SENTINEL_PORT } from "../../core/config/redis_url.ts";

export type { RedisEndpoint };

/** `"host:port"` as shown in messages (IPv6 in brackets). */
export function redisAddress(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(":")
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/**
 * `endpoint` as messages name it: `"10.0.0.2:6379"`, or for Sentinels
 * `master "mymaster" via Sentinel "10.0.0.2:26379", "10.0.0.3:26379"`.
 */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  if (!endpoint.sentinels?.length) return `"${redisAddress(endpoint)}"`;
  return `master "${endpoint.masterName}" via Sentinel ${_quoteList(endpoint.sentinels)}`;
}

/**
 * The client options that reach `endpoint` (connection settings only): the server itself,
 * or the master its Sentinels name. With Sentinels, `tls` applies to the Sentinels and the
 * master, `username`/`password` to the master, `sentinelUsername`/`sentinelPassword` to the
 * Sentinels; every reconnect asks the Sentinels again, so a failover is followed.
 */
export function redisConnectOptions(
  endpoint: RedisEndpoint,
): Pick<
  RespClientOptions,
  | "host"
  | "port"
  | "username"
  | "password"
  | "tls"
  | "sentinels"
  | "masterName"
  | "sentinelUsername"
  | "sentinelPassword"
> {
  const common = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    tls: endpoint.tls,
  };
  if (!endpoint.sentinels?.length) return common;
  return {
    ...common,
    sentinels: endpoint.sentinels.map((text) => {
      const address = parseHostPort(text, SENTINEL_PORT);
      if (typeof address === "string") throw new TypeError(`Invalid Redis Sentinel: ${address}`);
      return address;
    }),
    masterName: endpoint.masterName,
    sentinelUsername: endpoint.sentinelUsername,
    sentinelPassword: endpoint.sentinelPassword,
  };
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
    ...redisConnectOptions(endpoint),
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
    let reason = lastError ?? error;
    if (_sentinelFailure(reason)?.reason === "no answer") {
      reason = await _whySentinelsDoNotAnswer(endpoint, options.connectTimeoutMs ?? 5000) ??
        reason;
    }
    throw new RedisConnectionError(describeConnectFailure(endpoint, reason), { cause: error });
  }
  return client;
}

/**
 * The whole sentence for a failed connection, naming what could not be reached:
 * `Cannot connect to Redis at "10.0.0.2:6379": connection refused`,
 * `Cannot connect to Redis Sentinel at "127.0.0.1:26379": connection refused`,
 * `Cannot connect to Redis master "mymaster": no Redis Sentinel at "127.0.0.1:26379" knows it`,
 * `Cannot connect to Redis master "mymaster" at "127.0.0.1:6380" (named by the Sentinels): connection refused`.
 */
export function describeConnectFailure(endpoint: RedisEndpoint, error: unknown): string {
  if (!endpoint.sentinels?.length) {
    return `Cannot connect to Redis at "${redisAddress(endpoint)}": ${describeRedisError(error)}`;
  }
  const sentinels = _quoteList(endpoint.sentinels);
  const sentinel = _sentinelFailure(error);
  if (sentinel?.reason !== undefined) {
    return `Cannot connect to Redis Sentinel at ${sentinels}: ${sentinel.reason}`;
  }
  const master = `Redis master "${endpoint.masterName}"`;
  if (sentinel) {
    return `Cannot connect to ${master}: no Redis Sentinel at ${sentinels} knows it (see "sentinel monitor" in their configuration)`;
  }
  const { address, port } = (error ?? {}) as { address?: unknown; port?: unknown };
  const at = typeof address === "string" && typeof port === "number"
    ? ` at "${redisAddress({ host: address, port })}" (named by the Sentinels)`
    : "";
  return `Cannot connect to ${master}${at}: ${describeRedisError(error)}`;
}

/**
 * Connect to each Sentinel over TCP, for the reason ioredis does not keep (refused, unknown
 * host…): an "All sentinels are unreachable" error carrying the first failure's code.
 */
async function _whySentinelsDoNotAnswer(
  endpoint: RedisEndpoint,
  timeoutMs: number,
): Promise<Error | undefined> {
  for (const text of endpoint.sentinels ?? []) {
    const address = parseHostPort(text, SENTINEL_PORT);
    if (typeof address === "string") continue;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const conn = await Deno.connect({ hostname: address.host, port: address.port, signal });
      conn.close();
    } catch (error) {
      const code = error instanceof Deno.errors.ConnectionRefused
        ? "ECONNREFUSED"
        : signal.aborted
        ? "ETIMEDOUT"
        : /failed to lookup|Name or service not known/i.test(String(error))
        ? "ENOTFOUND"
        : (error as { code?: string }).code ?? "";
      return new Error(`All sentinels are unreachable. Last error: ${code} ${error}`);
    }
  }
  return undefined;
}

/** "a", "b" */
function _quoteList(items: readonly string[]): string {
  return items.map((item) => `"${item}"`).join(", ");
}

/**
 * The "All sentinels are unreachable" error (ioredis's wording, which RespClient keeps): `reason` is why the last Sentinel could
 * not be asked; none when the Sentinels answered but know no master of that name.
 */
function _sentinelFailure(error: unknown): { reason?: string } | undefined {
  const message = error instanceof Error ? error.message : "";
  if (!message.startsWith("All sentinels are unreachable")) return undefined;
  const last = /Last error: (.*)$/s.exec(message)?.[1];
  // Redis 7 answers an unknown name with an error, older Sentinels with nil.
  if (last === undefined || /No such master/i.test(last)) return {};
  // ioredis keeps only "Connection is closed" of a Sentinel it could not reach.
  if (/^Connection is closed/.test(last)) return { reason: "no answer" };
  const code = /\b(E[A-Z]{3,})\b/.exec(last)?.[1];
  if (code !== undefined) {
    const reason = describeRedisError({ code });
    if (reason !== "unknown error" && !reason.startsWith("[object")) return { reason };
  }
  return { reason: describeRedisError(new Error(last)) };
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
  const sentinel = _sentinelFailure(error);
  if (sentinel) {
    if (sentinel.reason === undefined) return "no Redis Sentinel knows the master";
    return sentinel.reason === "no answer"
      ? "no Redis Sentinel answers"
      : `no Redis Sentinel answers (${sentinel.reason})`;
  }
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
