/**
 * Asking Redis Sentinels about a master, for `wrapp doctor`: which master each one names,
 * and whether they can agree on a failover (`SENTINEL CKQUORUM`). Passwords never appear
 * in what this returns.
 *
 * @module
 */

import { RespClient } from "./resp_client.ts";
import { parseHostPort, type RedisEndpoint, SENTINEL_PORT } from "../../core/config/redis_url.ts";
import { describeRedisError } from "./redis_connection.ts";

/** What one Sentinel said. */
export interface SentinelAnswer {
  /** The Sentinel, `"host:port"` as configured. */
  sentinel: string;
  /** The master's address it names (`"10.0.0.2:6379"`); none when it did not answer or does not know the name. */
  master?: string;
  /** Its `SENTINEL CKQUORUM` reply, `OK 3 usable Sentinels…` or `NOQUORUM …`. */
  quorum?: string;
  /** Why it gave no master: `connection refused`, `no master of that name`. */
  problem?: string;
}

/**
 * Ask every Sentinel of `endpoint` (in parallel, each within `timeoutMs`) for the master's
 * address and the quorum. Never throws: a Sentinel that cannot be asked says why.
 */
export function askSentinels(
  endpoint: RedisEndpoint,
  options: { timeoutMs?: number } = {},
): Promise<SentinelAnswer[]> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return Promise.all((endpoint.sentinels ?? []).map(async (sentinel) => {
    const address = parseHostPort(sentinel, SENTINEL_PORT);
    if (typeof address === "string") return { sentinel, problem: address };
    const client = new RespClient({
      host: address.host,
      port: address.port,
      username: endpoint.sentinelUsername,
      password: endpoint.sentinelPassword,
      tls: endpoint.tls,
      connectTimeout: timeoutMs,
    });
    // A Sentinel that accepts but never answers: give up on it after timeoutMs.
    const timer = setTimeout(() => client.disconnect(), timeoutMs);
    let lastError: unknown;
    client.on("error", (error: unknown) => lastError ??= error);
    try {
      await client.connect();
      const reply = await client.call(
        "SENTINEL",
        "GET-MASTER-ADDR-BY-NAME",
        endpoint.masterName ?? "",
      ) as [string, string] | null;
      if (!Array.isArray(reply)) return { sentinel, problem: "no master of that name" };
      const master = reply[0].includes(":")
        ? `[${reply[0]}]:${reply[1]}`
        : `${reply[0]}:${reply[1]}`;
      let quorum: string;
      try {
        quorum = String(await client.call("SENTINEL", "CKQUORUM", endpoint.masterName ?? ""));
      } catch (error) {
        quorum = error instanceof Error ? error.message : String(error);
      }
      return { sentinel, master, quorum };
    } catch (error) {
      const reason = /No such master/i.test(String((error as Error)?.message))
        ? "no master of that name"
        : describeRedisError(lastError ?? error);
      return { sentinel, problem: reason };
    } finally {
      clearTimeout(timer);
      client.disconnect();
    }
  }));
}
