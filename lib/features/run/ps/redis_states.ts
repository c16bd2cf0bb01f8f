/**
 * `wrapp ps --redis URL`: the services of a whole fleet, from the state hashes every
 * wrapp with a `[redis]` sink keeps in DB 5 (`wrapp:<name>:state`, see
 * ../sinks/redis.ts): pid, run, status, host, version, heartbeat, started, restarts,
 * exit_code or signal, exited, and the service's own `status_text` (`[watchdog]`'s `STATUS=`).
 *
 * @module
 */

import type { RedisEndpoint } from "../../../core/config/redis_url.ts";
import { connectRedis } from "../../../pipeline/sinks/redis_connection.ts";
import type { RespClient } from "../../../pipeline/sinks/resp_client.ts";
import { type PsRow, STALE_AFTER_MS } from "./ps_row.ts";

const _KEY = /^wrapp:(.+):state$/;

/** The row of service `name` from its state hash `hash`, as seen at `now` (ms since the epoch). */
export function stateRow(name: string, hash: Readonly<Record<string, string>>, now: number): PsRow {
  const number = (field: string) => {
    const value = hash[field];
    if (value === undefined || value === "" || !/^-?\d+$/.test(value)) return undefined;
    return Number(value);
  };
  const heartbeat = number("heartbeat");
  let state = hash.status || "unknown";
  if (state === "running" && heartbeat !== undefined && now - heartbeat > STALE_AFTER_MS) {
    state = "stale";
  }
  const row: PsRow = { name, state };
  if (hash.host) row.host = hash.host;
  const pid = number("pid");
  // The pid stays in the hash after an exit: it is the service's only while it runs.
  if (pid !== undefined && pid > 0 && hash.status === "running") row.pid = pid;
  const started = number("started");
  if (started !== undefined) row.startedAt = started;
  const restarts = number("restarts");
  if (restarts !== undefined) row.restarts = restarts;
  const exitCode = number("exit_code");
  const exited = number("exited");
  if (hash.signal || exitCode !== undefined) {
    row.lastExit = {
      ...(hash.signal ? { signal: hash.signal } : { code: exitCode }),
      // Hashes written before `exited` existed: the heartbeat of the exit is the best guess.
      at: exited ?? heartbeat ?? now,
    };
  }
  if (heartbeat !== undefined) row.heartbeat = heartbeat;
  if (hash.status_text) row.status = hash.status_text;
  return row;
}

/**
 * Every state hash in the database `client` is on, as rows sorted by name then host.
 * Keys are found with SCAN (never KEYS, which blocks a busy server).
 */
export async function readStateRows(client: RespClient, now: number): Promise<PsRow[]> {
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const [next, batch] = await client.call(
      "SCAN",
      cursor,
      "MATCH",
      "wrapp:*:state",
      "COUNT",
      1000,
    ) as [string, string[]];
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== "0");
  const names = [...keys].map((key) => [key, _KEY.exec(key)?.[1]] as const)
    .filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
  const pipeline = client.pipeline();
  for (const [key] of names) pipeline.call("HGETALL", [key]);
  const replies = names.length > 0 ? (await pipeline.exec()) ?? [] : [];
  const rows: PsRow[] = [];
  names.forEach(([, name], i) => {
    const [error, hash] = replies[i] ?? [null, undefined];
    // A key of another type under the same name (WRONGTYPE) is not ours: leave it out.
    if (error || !Array.isArray(hash)) return;
    const fields: Record<string, string> = {};
    for (let k = 0; k + 1 < hash.length; k += 2) fields[String(hash[k])] = String(hash[k + 1]);
    rows.push(stateRow(name, fields, now));
  });
  return rows.sort((a, b) =>
    (a.name ?? "").localeCompare(b.name ?? "") || (a.host ?? "").localeCompare(b.host ?? "")
  );
}

/** Connect to the Redis at `endpoint`, database `db`, and read every state hash there as rows. */
export async function readFleetRows(endpoint: RedisEndpoint, db: number): Promise<PsRow[]> {
  const client = await connectRedis(endpoint, { db, name: "wrapp:ps" });
  try {
    return await readStateRows(client, Date.now());
  } finally {
    client.disconnect();
  }
}
