/**
 * `[redis]` after its keys are checked: the server (a `url` overrides host, port, TLS and
 * credentials), the credentials (as the Go wrapp reads them, `secrets_dir` included), the
 * Sentinels, and the spool folder.
 *
 * @module
 */

import { basename, join, resolve } from "../posix_path.ts";
import { describeCause } from "../errors.ts";
import type { RedisConfig } from "./config.ts";
import { CONFIG_SCHEMA, fieldProperty } from "./config_schema.ts";
import { parseHostPort, parseRedisUrl, redisUrlProblem, SENTINEL_PORT } from "./redis_url.ts";
import type { SectionValues } from "./check_sections.ts";
import type { ConfigSource } from "./config_source.ts";

/**
 * `[redis]` after its keys are checked: a `url` overrides host, port, TLS and
 * credentials; the password comes from `password`, `password_file`, `secrets_dir`, the
 * URL, or `$WRAPP_REDIS_PASSWORD`, in that order.
 */
export function redisSection(
  source: ConfigSource,
  raw: SectionValues,
  streamName: string,
): RedisConfig {
  let host = raw.host as string;
  let port = raw.port as number;
  let tls = raw.tls as boolean;
  let username = raw.username as string | undefined;
  let urlUsername: string | undefined;
  let urlPassword: string | undefined;
  if (raw.url !== undefined) {
    const parsed = parseRedisUrl(raw.url as string);
    if (!parsed) {
      const problem = redisUrlProblem(raw.url as string);
      throw source.error(`"url" in [redis]: ${problem}`, ["redis", "url"]);
    }
    ({ host, port } = parsed);
    tls = parsed.tls ?? false;
    urlUsername = parsed.username;
    urlPassword = parsed.password;
    username = urlUsername ?? username;
  }
  const credentials = _credentials(source, raw, { username, urlUsername, urlPassword });
  const sentinel = _sentinels(source, raw);
  const spoolDir = raw.spoolDir === undefined
    ? join(source.defaultLocalDir(streamName, true), "spool")
    : resolve(source.folder, raw.spoolDir as string);
  return {
    host,
    port,
    tls,
    ...(credentials.username === undefined ? {} : { username: credentials.username }),
    ...(credentials.password === undefined || credentials.password === ""
      ? {}
      : { password: credentials.password, passwordSource: credentials.passwordSource }),
    ...(raw.passwordFile === undefined
      ? {}
      : { passwordFile: resolve(source.folder, raw.passwordFile as string) }),
    ...(credentials.secretsDir === undefined ? {} : { secretsDir: credentials.secretsDir }),
    ...(raw.url === undefined ? {} : { url: raw.url as string }),
    dbLogs: raw.dbLogs as number,
    dbValues: raw.dbValues as number,
    dbState: raw.dbState as number,
    maxLen: raw.maxLen as number,
    healthIntervalMs: raw.healthIntervalMs as number,
    memoryQueue: raw.memoryQueue as number,
    spoolDir,
    spoolMaxBytes: raw.spoolMaxBytes as number,
    policy: raw.policy as RedisConfig["policy"],
    layout: raw.layout as RedisConfig["layout"],
    ...sentinel,
    replicasAck: raw.replicasAck as number,
    replicasAckTimeoutMs: raw.replicasAckTimeoutMs as number,
  };
}

/**
 * `sentinels`, `master_name` and the Sentinels' credentials, checked together: the
 * Sentinels name the master, so `url`, `host` and `port` must not be set beside them.
 */
function _sentinels(
  source: ConfigSource,
  raw: SectionValues,
): Pick<RedisConfig, "sentinels" | "masterName" | "sentinelUsername" | "sentinelPassword"> {
  const list = raw.sentinels as string[] | undefined;
  const masterName = raw.masterName as string | undefined;
  const at = ["redis", "sentinels"];
  if (list !== undefined && list.length === 0) {
    throw source.error(`"sentinels" in [redis] is empty: list at least one "host:port"`, at);
  }
  if (list === undefined) {
    for (const key of ["master_name", "sentinel_username", "sentinel_password"]) {
      if (raw[fieldProperty(key, CONFIG_SCHEMA.redis.fields[key])] !== undefined) {
        throw source.error(
          `"${key}" in [redis] needs "sentinels": the addresses of the Redis Sentinels`,
          ["redis", key],
          at,
        );
      }
    }
    return {};
  }
  if (masterName === undefined) {
    throw source.error(
      `"sentinels" in [redis] needs "master_name": the name the Sentinels monitor the master under`,
      at,
    );
  }
  for (const key of ["url", "host", "port"]) {
    if (source.position(["redis", key]) !== undefined && raw[key] !== undefined) {
      throw source.error(
        `"${key}" and "sentinels" in [redis] are both set: keep one (the Sentinels name the master's address)`,
        ["redis", key],
      );
    }
  }
  const sentinels: string[] = [];
  for (const item of list) {
    const parsed = parseHostPort(item, SENTINEL_PORT);
    if (typeof parsed === "string") throw source.error(`"sentinels" in [redis]: ${parsed}`, at);
    const address = parsed.host.includes(":")
      ? `[${parsed.host}]:${parsed.port}`
      : `${parsed.host}:${parsed.port}`;
    if (!sentinels.includes(address)) sentinels.push(address);
  }
  return {
    sentinels,
    masterName,
    ...(raw.sentinelUsername === undefined
      ? {}
      : { sentinelUsername: raw.sentinelUsername as string }),
    ...(raw.sentinelPassword === undefined
      ? {}
      : { sentinelPassword: raw.sentinelPassword as string }),
  };
}

/**
 * The user name and password of `[redis]`: from `secrets_dir` (both), `password_file`,
 * `password`, the URL, or `$WRAPP_REDIS_PASSWORD`, in that order.
 */
function _credentials(
  source: ConfigSource,
  raw: SectionValues,
  given: { username?: string; urlUsername?: string; urlPassword?: string },
): {
  username?: string;
  password?: string;
  passwordSource: RedisConfig["passwordSource"];
  secretsDir?: string;
} {
  const { urlUsername, urlPassword } = given;
  let username = given.username;
  if (raw.password !== undefined && raw.passwordFile !== undefined) {
    throw source.error(
      `"password" and "password_file" in [redis] are both set: keep one`,
      ["redis", "password_file"],
    );
  }
  let password: string | undefined;
  let passwordSource: RedisConfig["passwordSource"];
  let secretsDir: string | undefined;
  if (raw.secretsDir !== undefined) {
    const others = [
      ...["password", "password_file", "username"].filter((key) =>
        raw[fieldProperty(key, CONFIG_SCHEMA.redis.fields[key])] !== undefined
      ),
      ...(urlUsername !== undefined || urlPassword !== undefined ? ["url"] : []),
    ];
    if (others.length > 0) {
      const what = others[0] === "url" ? 'the credentials in "url"' : `"${others[0]}"`;
      throw source.error(
        `"secrets_dir" and ${what} in [redis] are both set: keep one (secrets_dir gives the user name and the password)`,
        ["redis", "secrets_dir"],
      );
    }
    secretsDir = resolve(source.folder, raw.secretsDir as string);
    username = basename(secretsDir);
    password = _secretsPassword(source, secretsDir);
    passwordSource = "secrets_dir";
  } else if (raw.passwordFile !== undefined) {
    const path = resolve(source.folder, raw.passwordFile as string);
    try {
      password = Deno.readTextFileSync(path).replace(/\r?\n$/, "");
    } catch (error) {
      throw source.error(
        `cannot read "password_file" ${JSON.stringify(raw.passwordFile)}: ${describeCause(error)}`,
        ["redis", "password_file"],
      );
    }
    passwordSource = "password_file";
  } else if (raw.password !== undefined) {
    password = raw.password as string;
    passwordSource = "password";
  } else if (urlPassword !== undefined) {
    password = urlPassword;
    passwordSource = "url";
  } else {
    password = source.env("WRAPP_REDIS_PASSWORD") || undefined;
    passwordSource = "env";
  }
  return { username, password, passwordSource, secretsDir };
}

/** The trimmed, non-empty content of `<dir>/password`, as the Go wrapp reads it. */
function _secretsPassword(source: ConfigSource, dir: string): string {
  const at = ["redis", "secrets_dir"];
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (error) {
    throw source.error(
      error instanceof Deno.errors.NotFound
        ? `secrets_dir "${dir}" does not exist`
        : `secrets_dir "${dir}" cannot be checked: ${describeCause(error)}`,
      at,
    );
  }
  if (!info.isDirectory) throw source.error(`secrets_dir "${dir}" is not a directory`, at);
  const path = join(dir, "password");
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw source.error(
      error instanceof Deno.errors.NotFound
        ? `secrets_dir "${dir}" has no password file: "${path}" does not exist`
        : `cannot read the Redis password from "${path}": ${describeCause(error)}`,
      at,
    );
  }
  const password = text.trim();
  if (password === "") throw source.error(`the Redis password file "${path}" is empty`, at);
  return password;
}
