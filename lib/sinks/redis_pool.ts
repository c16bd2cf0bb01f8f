/**
 * Redis connections shared by the sinks of a group of services (`wrapp up`): one
 * connection per server, user and database instead of three per service. Each sink keeps
 * its own queue, spool and listeners; the pool only counts who holds a connection and
 * closes it after the last one lets go.
 *
 * @module
 */

import type { Redis } from "ioredis";

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
  readonly #entries = new Map<string, { client: Redis; holders: number }>();

  /** The connection for `key`, made by `create` (not yet connected) for its first holder. */
  acquire(key: RedisPoolKey, create: () => Redis): Redis {
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
      // Its holders listen for errors; this one keeps an error between holders (or after the
      // last one) from being reported by ioredis as unhandled.
      client.on("error", () => {});
      entry = { client, holders: 0 };
      this.#entries.set(id, entry);
    }
    entry.holders++;
    return entry.client;
  }

  /** One holder lets go of `client`; after the last, it is closed (QUIT, at most `quitTimeoutMs`, then dropped). */
  async release(client: Redis, quitTimeoutMs = 1000): Promise<void> {
    for (const [id, entry] of this.#entries) {
      if (entry.client !== client) continue;
      if (--entry.holders > 0) return;
      this.#entries.delete(id);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        if (client.status === "ready") {
          await Promise.race([
            client.quit(),
            new Promise((resolve) => timer = setTimeout(resolve, quitTimeoutMs)),
          ]);
        }
      } catch {
        /* dropped below */
      } finally {
        clearTimeout(timer);
      }
      client.disconnect();
      return;
    }
  }

  /** How many connections the pool holds. */
  get size(): number {
    return this.#entries.size;
  }
}
