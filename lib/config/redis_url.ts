/**
 * Redis endpoints and `redis://` / `rediss://` URLs, shared by the config, `wrapp logs`
 * and `wrapp serve`. Free of ioredis, so reading a config does not load a Redis client.
 *
 * @module
 */

/** Where and how to connect. */
export interface RedisEndpoint {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** Connect with TLS. */
  tls?: boolean;
  /** ACL user name. */
  username?: string;
  /** Password; never print it. */
  password?: string;
}

/**
 * Read `redis://[user:password@]host[:port]` or `rediss://…` (TLS). Returns `undefined`
 * for anything else, so callers can word the error for their context.
 */
export function parseRedisUrl(text: string): RedisEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return undefined;
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === "rediss:",
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}
