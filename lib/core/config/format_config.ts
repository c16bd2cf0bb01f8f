/**
 * The effective config as TOML, for `wrapp check`.
 *
 * @module
 */

import type { Config, RedisConfig } from "./config.ts";
import { CONFIG_SCHEMA, fieldProperty, type FieldSpec } from "./load_config.ts";
import { formatSize } from "./parse_size.ts";

/** What `wrapp check` prints instead of a secret such as the Redis password. */
export const SECRET_MASK = "********";

/**
 * Render `config` as a valid TOML document with every key of every section it has, defaults
 * filled in and paths absolute, so it reads the same from any folder (whether the config was
 * TOML or JSON). `executable` is the resolved path (with the value as written in a comment
 * when it differs); optional keys that are not set appear as comments. Secrets are never
 * shown: a password written in the config becomes `"********"` (and so does one in `url`); one
 * read from `password_file`, `secrets_dir` or `$WRAPP_REDIS_PASSWORD` is a comment naming its
 * source, so the output loads back to the same config. No trailing newline.
 *
 * @example The effective config, as `wrapp check` prints it
 * ```ts
 * import { formatConfig, loadConfig } from "@wrapp/wrapp";
 *
 * console.log(formatConfig(await loadConfig("examples/hello.toml")));
 * // [app]
 * // executable = "/…/examples/hello.sh" # as written: "./hello.sh"
 * // …
 * ```
 */
export function formatConfig(config: Config): string {
  const blocks: string[] = [];
  for (const [section, spec] of Object.entries(CONFIG_SCHEMA)) {
    const values = (config as unknown as Record<string, Record<string, unknown> | undefined>)[
      section
    ];
    if (values === undefined) continue;
    const lines = [`[${section}]`];
    const subtables: string[] = [];
    for (const [key, field] of Object.entries(spec.fields)) {
      const value = values[fieldProperty(key, field)];
      const derived = section === "redis" ? _derivedRedisKey(key, config.redis!) : undefined;
      if (derived !== undefined) {
        lines.push(derived);
      } else if (value === undefined) {
        lines.push(`# ${key}: not set`);
      } else if (section === "redis" && key === "url") {
        lines.push(`${key} = ${_string(_maskUrl(value as string))}`);
      } else if (field.secret) {
        lines.push(`${key} = ${_string(SECRET_MASK)}`);
      } else if (section === "app" && key === "executable") {
        const resolved = config.app.resolvedExecutable;
        const note = resolved === value ? "" : ` # as written: ${_string(value as string)}`;
        lines.push(`${key} = ${_string(resolved)}${note}`);
      } else if (field.kind === "string_table" && Object.keys(value as object).length > 0) {
        subtables.push(
          "",
          `[${section}.${_key(key)}]`,
          ...Object.entries(value as Record<string, string>).map(([name, text]) =>
            `${_key(name)} = ${_string(text)}`
          ),
        );
      } else {
        lines.push(`${key} = ${_value(field, value)}`);
      }
    }
    blocks.push([...lines, ...subtables].join("\n"));
  }
  return blocks.join("\n\n");
}

/**
 * The line for a `[redis]` key whose value comes from another key or the environment, as a
 * comment: printing it would conflict with its source when the output is loaded back.
 */
function _derivedRedisKey(key: string, redis: RedisConfig): string | undefined {
  if ((key === "host" || key === "port") && redis.sentinels !== undefined) {
    return `# ${key}: not used, the Sentinels name the master`;
  }
  if (key === "username" && redis.secretsDir !== undefined) {
    return `# username: ${_string(redis.username ?? "")}, from secrets_dir`;
  }
  if (key !== "password" || redis.password === undefined) return undefined;
  switch (redis.passwordSource) {
    case "password_file":
    case "secrets_dir":
    case "url":
      return `# password: from ${redis.passwordSource}`;
    case "env":
      return "# password: from $WRAPP_REDIS_PASSWORD";
    default:
      return undefined;
  }
}

/** A Redis URL with its password, if any, replaced by {@linkcode SECRET_MASK}. */
function _maskUrl(text: string): string {
  const url = new URL(text); // valid: loadConfig parsed it
  if (url.password === "") return text;
  url.password = SECRET_MASK;
  return url.href;
}

function _value(field: FieldSpec, value: unknown): string {
  switch (field.kind) {
    case "string":
      return _string(value as string);
    case "duration":
      return _string(_duration(value as number));
    case "string_array":
      return `[${(value as string[]).map(_string).join(", ")}]`;
    case "string_table":
      return "{}";
    case "size":
      return _string(formatSize(value as number));
    case "percent":
      return _string(`${value}%`);
    default:
      return String(value);
  }
}

/** A TOML basic string (JSON escapes are TOML escapes; DEL must be escaped too). */
function _string(text: string): string {
  return JSON.stringify(text.toWellFormed()).replaceAll("\x7f", "\\u007f");
}

function _key(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : _string(key);
}

/** Milliseconds as the shortest duration string wrapp reads back: `"10s"`, `"1m30s"`, `"500ms"`. */
function _duration(ms: number): string {
  if (ms === 0) return "0s";
  let text = "";
  let rest = ms;
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}
