/**
 * Redis connections shared by the sinks of a group of services (`wrapp up`): one
 * connection per server, user and database instead of three per service. Each sink keeps
 * its own queue, spool and listeners; the pool only counts who holds a connection and
 * closes it after the last one lets go.
 *
 * @module
 */

import type { RespClient } from "./resp_client.ts";

/** What makes two connections interchangeable. */
export interface RedisPoolKey {
  host: string;
  port: number;
  tls?: boolean;
  username?: string;
  password?: string;
  /** Sentinels naming the master (then host and port are not used). */
  sentinels?: string[];
  /** The master's name at the Sentinels. */
  masterName?: string;
  /** ACL user name for the Sentinels. */
  sentinelUsername?: string;
  /** Password for the Sentinels. */
  sentinelPassword?: string;
  db: number;
}

/** Connections counted by holder; see the module documentation. */
export class RedisPool {
  readonly #entries = new Map<string, { client: RespClient; holders: number }>();

  /** The connection for `key`, made by `create` (not yet connected) for its first holder. */
  acquire(key: RedisPoolKey, create: () => RespClient): RespClient {
    const id = JSON.stringify([
      key.host,
      key.port,
      !!key.tls,
      key.username,
      key.password,
      key.db,
      key.sentinels ?? [],
      key.masterName,
      key.sentinelUsername,
      key.sentinelPassword,
    ]);
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      const client = create();
      entry = { client, holders: 0 };
      this.#entries.set(id, entry);
    }
    entry.holders++;
    return entry.client;
  }

  /**
   * One holder lets go of `client`; after the last, it is closed at once (no QUIT round
   * trip: its holders closed after their last replies).
   */
  release(client: RespClient): Promise<void> {
    for (const [id, entry] of this.#entries) {
      if (entry.client !== client) continue;
      if (--entry.holders > 0) break;
      this.#entries.delete(id);
      client.disconnect();
      break;
    }
    return Promise.resolve();
  }

  /** How many connections the pool holds. */
  get size(): number {
    return this.#entries.size;
  }
}
