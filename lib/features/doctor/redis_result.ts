/**
 * Doctor's Redis lines: does the server answer a PING (or the master the Sentinels name),
 * and does the master have the replicas `replicas_ack` waits for. The Redis client is
 * loaded only when one of them runs.
 *
 * @module
 */

import type { RedisEndpoint } from "../../core/config/redis_url.ts";
import type { RespClient } from "../../pipeline/sinks/resp_client.ts";
import type { CheckResult } from "./check_result.ts";

/** The `replicas` line: the master's replicas online against `replicas_ack`. */
export async function replicasCheck(
  redis: { endpoint: RedisEndpoint; db: number },
  required: number,
): Promise<CheckResult> {
  const { connectRedis } = await import("../../pipeline/sinks/redis_connection.ts");
  const { replicasResult } = await import("./sentinel_results.ts");
  let client;
  try {
    client = await connectRedis(redis.endpoint, {
      db: redis.db,
      name: "wrapp:doctor",
      connectTimeoutMs: 2000,
    });
    return replicasResult(String(await client.call("INFO", "replication")), required);
  } catch (error) {
    return {
      check: "replicas",
      status: "missing",
      message: `cannot ask the master for its replicas: ${
        error instanceof Error ? error.message : String(error)
      }`,
      fix: "see the redis line",
    };
  } finally {
    client?.disconnect();
  }
}

/** PING Redis at `endpoint`; the message names host:port only, never the password. */
export async function redisResult(
  endpoint: RedisEndpoint,
  options: { db?: number; timeoutMs?: number; fix?: string } = {},
): Promise<CheckResult> {
  // Loaded here so that a doctor without Redis does not load the Redis client.
  const { connectRedis, describeEndpoint, describeRedisError, redisAddress } = await import(
    "../../pipeline/sinks/redis_connection.ts"
  );
  const address = redisAddress(endpoint);
  const sentinel = (endpoint.sentinels?.length ?? 0) > 0;
  // `at "host:port"`, or `master "m" via Sentinel "…"`.
  const where = sentinel ? describeEndpoint(endpoint) : `at "${address}"`;
  const fix = options.fix ?? "start redis-server there, or check its address and password";
  const timeoutMs = options.timeoutMs ?? 2000;
  let client: RespClient;
  try {
    // A server that accepts but never answers (hung, or not Redis) would leave connect()
    // waiting for its ready check: give up after timeoutMs.
    client = await _within(
      connectRedis(endpoint, {
        db: options.db ?? 0,
        name: "wrapp:doctor",
        connectTimeoutMs: timeoutMs,
      }),
      // With Sentinels, connectRedis() says precisely which part did not answer.
      sentinel ? timeoutMs + 1000 : timeoutMs,
      `Cannot connect to Redis ${where}: no answer within ${timeoutMs} ms`,
    );
  } catch (error) {
    return {
      check: "redis",
      status: "missing",
      message: error instanceof Error ? error.message : String(error),
      fix,
    };
  }
  try {
    // Connected, but a server may still stop answering before the PING.
    const reply = await _within(client.ping(), timeoutMs, `no answer within ${timeoutMs} ms`);
    const from = sentinel
      ? `master "${endpoint.masterName}" at ${
        redisAddress({
          host: client.address?.host ?? "?",
          port: client.address?.port ?? 0,
        })
      } (named by the Sentinels)`
      : address;
    return {
      check: "redis",
      status: "ok",
      message: `${reply} from ${from}${endpoint.tls ? " (TLS)" : ""}, db ${options.db ?? 0}`,
    };
  } catch (error) {
    return {
      check: "redis",
      status: "missing",
      message: `Cannot connect to Redis ${where}: ${describeRedisError(error)}`,
      fix,
    };
  } finally {
    client.disconnect();
  }
}

/** `promise`, or an Error saying `message` when it has not settled after `ms`. */
async function _within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
