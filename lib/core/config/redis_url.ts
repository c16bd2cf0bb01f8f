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
  /**
   * Redis Sentinels to ask for the master's address, as `"host:port"` (checked by
   * {@linkcode parseHostPort}). When set, `host` and `port` are not used: the Sentinels name
   * the master, and name the new one after a failover. `tls`, `username` and `password`
   * apply to the master; `tls` to the Sentinels too.
   */
  sentinels?: string[];
  /** The master's name in the Sentinels' configuration (`sentinel monitor <name> …`); required with `sentinels`. */
  masterName?: string;
  /** ACL user name for the Sentinels. Default: none. */
  sentinelUsername?: string;
  /** Password for the Sentinels (their `requirepass`); never print it. Default: none. */
  sentinelPassword?: string;
}

/** The default port of a Redis Sentinel. */
export const SENTINEL_PORT = 26379;

/**
 * Read `host:port`, `host` (port `defaultPort`), `[v6addr]:port` or a bare IPv6 address.
 * Returns why it cannot, as a phrase for the caller's message, instead of throwing.
 */
export function parseHostPort(
  text: string,
  defaultPort: number,
): { host: string; port: number } | string {
  const expected = 'expected "host:port"';
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d*))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    [, host, port] = bracketed;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    host = text; // a bare IPv6 address
  } else {
    [host, port] = text.split(":");
  }
  if (host === "" || /[\s/@?#[\]]/.test(host)) {
    return `${JSON.stringify(text)} is not a host; ${expected}`;
  }
  if (port === undefined) return { host, port: defaultPort };
  const number = Number(port);
  if (!/^\d+$/.test(port) || number < 1 || number > 65535) {
    return `${JSON.stringify(text)} has no valid port (1 to 65535); ${expected}`;
  }
  return { host, port: number };
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
