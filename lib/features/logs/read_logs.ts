/**
 * Read a service's Redis streams back: the newest entries first, merged in the order they
 * were written, then (to follow, like `journalctl -f`) every new one as it arrives.
 *
 * @module
 */

import type { RedisEndpoint } from "../../core/config/redis_url.ts";
import { connectRedis } from "../../pipeline/sinks/redis_connection.ts";
import type { RespClient } from "../../pipeline/sinks/resp_client.ts";
import { compareEntryIds, formatLogEntry, type LogEntry, type LogStream } from "./log_entry.ts";

/** What to read, and how to print it. */
export interface ReadLogsOptions {
  /** The service's stream name: its streams are `logs:app:<name>:<stream>`. */
  name: string;
  streams: LogStream[];
  /** How many entries to print first (0 for none). */
  lines: number;
  /** Keep printing new entries until `interrupted` resolves. */
  follow: boolean;
  /** One JSON object per entry. */
  json: boolean;
  endpoint: RedisEndpoint;
  db: number;
}

/** Where the entries go, and when following stops. */
export interface ReadLogsOutput {
  /** Print one entry's line. */
  print(text: string): void;
  /** Start listening for the user's request to stop following (Ctrl-C); resolves on it. */
  interrupted?: () => Promise<void>;
}

/** Print the newest entries of the streams, then follow them when asked. */
export async function readLogs(options: ReadLogsOptions, output: ReadLogsOutput): Promise<void> {
  const client = await connectRedis(options.endpoint, { db: options.db, name: "wrapp:logs" });
  try {
    const keys = options.streams.map((stream) => `logs:app:${options.name}:${stream}`);
    const streamOf = new Map(keys.map((key, i) => [key, options.streams[i]]));
    const lastIds = await _printLatest(client, keys, streamOf, options, output);
    if (options.follow) await _follow(client, keys, lastIds, streamOf, options, output);
  } finally {
    client.disconnect();
  }
}

async function _printLatest(
  client: RespClient,
  keys: string[],
  streamOf: Map<string, LogStream>,
  options: ReadLogsOptions,
  output: ReadLogsOutput,
): Promise<string[]> {
  const lastIds: string[] = [];
  const entries: LogEntry[] = [];
  for (const key of keys) {
    // The newest entry is read even with -n 0: following starts after it.
    const newest = await client.xrevrange(key, "+", "-", "COUNT", Math.max(options.lines, 1));
    lastIds.push(newest[0]?.[0] ?? "0-0");
    for (const [id, fields] of newest) entries.push({ key, id, fields });
  }
  if (options.lines === 0) return lastIds;
  entries.sort((a, b) => compareEntryIds(a.id, b.id));
  for (const entry of entries.slice(-options.lines)) {
    output.print(formatLogEntry(streamOf.get(entry.key)!, entry.id, entry.fields, options.json));
  }
  return lastIds;
}

async function _follow(
  client: RespClient,
  keys: string[],
  lastIds: string[],
  streamOf: Map<string, LogStream>,
  options: ReadLogsOptions,
  output: ReadLogsOutput,
): Promise<void> {
  let stopped = false;
  output.interrupted?.().then(() => {
    stopped = true;
    client.disconnect();
  });
  while (!stopped) {
    let reply;
    try {
      reply = await client.xread("BLOCK", 2000, "STREAMS", ...keys, ...lastIds);
    } catch (error) {
      if (stopped) break;
      throw error;
    }
    const batch: LogEntry[] = [];
    for (const [key, entries] of reply ?? []) {
      const index = keys.indexOf(key);
      for (const [id, fields] of entries) {
        batch.push({ key, id, fields });
        lastIds[index] = id;
      }
    }
    batch.sort((a, b) => compareEntryIds(a.id, b.id));
    for (const entry of batch) {
      output.print(formatLogEntry(streamOf.get(entry.key)!, entry.id, entry.fields, options.json));
    }
  }
}
