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
 * for anything else; {@linkcode redisUrlProblem} says why, so callers can word the error
 * for their context.
 */
export function parseRedisUrl(text: string): RedisEndpoint | undefined {
  const read = _read(text);
  return typeof read === "string" ? undefined : read;
}

/**
 * Why `text` is not a usable Redis URL — `the password has an invalid %-escape …` — or
 * `undefined` when {@linkcode parseRedisUrl} accepts it. Never quotes the URL: it may
 * hold a password.
 */
export function redisUrlProblem(text: string): string | undefined {
  const read = _read(text);
  return typeof read === "string" ? read : undefined;
}

function _read(text: string): RedisEndpoint | string {
  const expected = "expected redis://[user:password@]host[:port] or rediss://…";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    if (!/^rediss?:/i.test(text)) return `not a Redis URL; ${expected}`;
    const port = /^rediss?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(text);
    if (port && Number(port[1]) > 65535) return `port ${port[1]} is not a valid port (1 to 65535)`;
    return `not a valid URL; ${expected}`;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return `not a Redis URL; ${expected}`;
  }
  if (url.port === "0") return "port 0 is not a valid port (1 to 65535)";
  const username = _decode(url.username);
  if (username === undefined) return `the user name has an invalid %-escape (write "%" as "%25")`;
  const password = _decode(url.password);
  if (password === undefined) return `the password has an invalid %-escape (write "%" as "%25")`;
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: url.port ? Number(url.port) : 6379,
    tls: url.protocol === "rediss:",
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

/** Percent-decode a URL part; `undefined` for a malformed escape such as `%E0%A4%A`. */
function _decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
