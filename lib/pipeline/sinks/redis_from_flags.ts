/**
 * Redis from command-line flags: the endpoint a command reads from
 * ({@linkcode redisEndpointFromFlags}: `--url`, `--host`, `--sentinel`…, for `wrapp logs`
 * and `wrapp ps`), and a Redis sink (`--redis URL`, `--redis-password-file FILE`) for the
 * commands that are not driven by a config file: `wrapp serve`, `wrapp trace`.
 *
 * @module
 */

import { join, resolve } from "../../core/posix_path.ts";
import { describeCause, UsageError } from "../../core/errors.ts";
import {
  parseHostPort,
  parseRedisUrl,
  type RedisEndpoint,
  redisUrlProblem,
  SENTINEL_PORT,
} from "../../core/config/redis_url.ts";
import { defaultStateDir } from "../../core/config/state_dir.ts";
import { redisUrlFlag } from "../../core/config/redis_url_flag.ts";
import { newRunId } from "../tef/run_dir.ts";
import { RedisSink } from "./redis.ts";

/** The flags {@linkcode redisEndpointFromFlags} reads, as `parseFlags` options. */
export const REDIS_ENDPOINT_FLAGS = {
  url: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  username: { type: "string" },
  "password-file": { type: "string" },
  tls: { type: "boolean" },
  sentinel: { type: "string", multiple: true },
  "master-name": { type: "string" },
} as const;

/** `--help` lines for {@linkcode REDIS_ENDPOINT_FLAGS}. */
export const REDIS_ENDPOINT_HELP =
  `      --url URL        redis://[user:password@]host:port or rediss:// for TLS
      --host HOST      Redis host (default 127.0.0.1)
      --port PORT      Redis port (default 6379)
      --username USER  ACL user name
      --password-file FILE  read the password from FILE (else $WRAPP_REDIS_PASSWORD)
      --tls            connect with TLS
      --sentinel HOST:PORT  ask this Redis Sentinel for the master (port 26379 when left
                       out); repeat or use commas for several; needs --master-name
      --master-name NAME  the master's name at the Sentinels (sentinel monitor NAME …)`;

/** What `parseFlags` returns for {@linkcode REDIS_ENDPOINT_FLAGS}. */
export interface RedisEndpointFlagValues {
  /** `--url`. */
  url?: string;
  /** `--host`. */
  host?: string;
  /** `--port`. */
  port?: string;
  /** `--username`. */
  username?: string;
  /** `--password-file`. */
  "password-file"?: string;
  /** `--tls`. */
  tls?: boolean;
  /** `--sentinel`, each maybe a comma-separated list. */
  sentinel?: string[];
  /** `--master-name`. */
  "master-name"?: string;
}

/**
 * The Redis endpoint the flags name, on top of `base` (e.g. a config's `[redis]`):
 * `--url` replaces it, `--host`/`--port` pick a server (and drop `base`'s Sentinels),
 * `--sentinel` with `--master-name` picks Sentinels (and `--master-name` alone renames
 * `base`'s master); the password comes from `--password-file`, else the URL or `base`,
 * else `$WRAPP_REDIS_PASSWORD`. Throws {@linkcode UsageError} (exit 2) for a bad or
 * conflicting flag; a URL is never quoted (it may hold a password).
 */
export async function redisEndpointFromFlags(
  values: RedisEndpointFlagValues,
  options: { base?: RedisEndpoint; env: (name: string) => string | undefined },
): Promise<RedisEndpoint> {
  let endpoint: RedisEndpoint = { host: "127.0.0.1", port: 6379, ...options.base };
  const sentinels = (values.sentinel ?? []).flatMap((item) => item.split(","))
    .map((item) => item.trim());
  const server = ["url", "host", "port"].filter((flag) =>
    values[flag as keyof RedisEndpointFlagValues] !== undefined
  );
  if (sentinels.length > 0 && server.length > 0) {
    throw new UsageError(
      `--${
        server[0]
      } and --sentinel both name the Redis server: keep one (the Sentinels name the master)`,
    );
  }
  if (values.url !== undefined) {
    const parsed = parseRedisUrl(values.url);
    if (!parsed) throw new UsageError(`Invalid --url: ${redisUrlProblem(values.url)}`);
    endpoint = parsed;
  }
  if (values.host !== undefined) endpoint.host = values.host;
  if (values.port !== undefined) endpoint.port = _port("--port", values.port);
  if (server.length > 0) {
    delete endpoint.sentinels;
    delete endpoint.masterName;
    delete endpoint.sentinelUsername;
    delete endpoint.sentinelPassword;
  }
  if (sentinels.length > 0) {
    endpoint.sentinels = [];
    for (const item of sentinels) {
      const address = parseHostPort(item, SENTINEL_PORT);
      if (typeof address === "string") throw new UsageError(`Invalid --sentinel: ${address}`);
      const text = address.host.includes(":")
        ? `[${address.host}]:${address.port}`
        : `${address.host}:${address.port}`;
      if (!endpoint.sentinels.includes(text)) endpoint.sentinels.push(text);
    }
  }
  if (values["master-name"] !== undefined) {
    if (!endpoint.sentinels?.length) {
      throw new UsageError("--master-name needs --sentinel: the Sentinels that know the master");
    }
    endpoint.masterName = values["master-name"];
  }
  if (endpoint.sentinels?.length && !endpoint.masterName) {
    throw new UsageError(
      "--sentinel needs --master-name: the name the Sentinels monitor the master under",
    );
  }
  if (values.username !== undefined) endpoint.username = values.username;
  if (values.tls) endpoint.tls = true;
  if (values["password-file"] !== undefined) {
    try {
      endpoint.password = (await Deno.readTextFile(values["password-file"])).replace(/\r?\n$/, "");
    } catch (error) {
      throw new UsageError(
        `Cannot read --password-file "${values["password-file"]}": ${describeCause(error)}`,
      );
    }
  }
  const fromEnv = options.env("WRAPP_REDIS_PASSWORD");
  if (endpoint.password === undefined && fromEnv) endpoint.password = fromEnv;
  return endpoint;
}

function _port(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) {
    throw new UsageError(`${flag} must be an integer between 1 and 65535, got "${text}"`);
  }
  return value;
}

/** Options for {@linkcode openRedisSinkFromFlags}. */
export interface RedisFlags {
  /** `--redis`: `redis://[user:password@]host:port` or `rediss://…`. */
  url: string;
  /** `--redis-password-file`; else the URL's password, else `$WRAPP_REDIS_PASSWORD`. */
  passwordFile?: string;
  /** Spool folder. Default `<state dir of streamName>/spool`. */
  spoolDir?: string;
  /** Service name in the keys (`logs:app:<streamName>:trace`). */
  streamName: string;
  /** Pid written in every entry. Default wrapp's. */
  pid?: () => number;
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** One line for the operator (prefixed by the caller). */
  log: (message: string) => void;
  /** Debug logger. */
  debug: (message: string) => void;
}

/**
 * Open a spooled Redis sink and say where it streams (and, when Redis is unreachable,
 * that events wait in the spool). Throws UsageError for a bad URL or password file.
 */
export async function openRedisSinkFromFlags(flags: RedisFlags): Promise<RedisSink> {
  const endpoint = redisUrlFlag(flags.url, flags.env);
  if (flags.passwordFile !== undefined) {
    try {
      endpoint.password = (await Deno.readTextFile(flags.passwordFile)).replace(/\r?\n$/, "");
    } catch (error) {
      throw new UsageError(
        `Cannot read --redis-password-file "${flags.passwordFile}": ${describeCause(error)}`,
      );
    }
  }
  const stateDir = defaultStateDir(flags.streamName, { env: flags.env, uid: Deno.uid() }) ??
    join("/tmp/wrapp", flags.streamName);
  const spoolDir = resolve(flags.spoolDir ?? join(stateDir, "spool"));
  const sink = await RedisSink.connect({
    ...endpoint,
    streamName: flags.streamName,
    runId: newRunId(),
    hostname: Deno.hostname(),
    pid: flags.pid ?? (() => Deno.pid),
    spoolDir,
    onStatus: (event) => flags.log(event.message),
    debug: flags.debug,
  });
  const problem = await sink.healthCheck();
  flags.log(
    `streaming events to Redis at ${sink.address}${
      problem ? ` (${problem}; events wait in spool "${spoolDir}")` : ""
    }`,
  );
  return sink;
}
