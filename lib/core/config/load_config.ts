/**
 * Loading and validating a service's config into a {@linkcode Config}: TOML, or JSON in the
 * Go wrapp's format when the file name ends in `.json`.
 *
 * Every key is described once in {@linkcode CONFIG_SCHEMA} (type, default, bounds); the
 * checks, the defaults and `wrapp check`'s output are all driven from that table. Values
 * whose default depends on other values (`stream_name`, `cwd`, `[local] enabled` and
 * `dir`) and the filesystem checks are done afterwards, in {@linkcode parseConfig}.
 *
 * Every problem is a {@linkcode ConfigError} (exit code 2) whose message names the file as
 * the user wrote it and, when it is about a key, the key's line and column:
 * `Invalid config "svc.toml" at line 7, column 1: unknown key "exectuable" in [app] (did you mean "executable"?)`
 *
 * As in the Go wrapp, `""` for an optional string key means "not set" (its default applies),
 * and in JSON `null` means "not set" and keys starting with `_` are comments.
 *
 * @module
 */

import { parse, TomlDate, TomlError } from "smol-toml";
import { basename, dirname, join, resolve } from "../posix_path.ts";
import { ConfigError, describeCause } from "../errors.ts";
import type {
  AppConfig,
  Config,
  CrashConfig,
  DebugConfig,
  LimitsConfig,
  LocalConfig,
  MemprofConfig,
  MetricsConfig,
  OutputConfig,
  RedisConfig,
  RestartConfig,
  TraceConfig,
  WatchdogConfig,
} from "./config.ts";
import { didYouMean } from "../did_you_mean.ts";
import { parseHostPort, parseRedisUrl, redisUrlProblem, SENTINEL_PORT } from "./redis_url.ts";
import { defaultRuntimeDir, defaultStateDir } from "./state_dir.ts";
import { JsonSyntaxError, parseJsonDocument } from "./json_document.ts";
import { tomlPositions } from "./toml_positions.ts";
import { lookupGroupId, lookupUser } from "../run_as_user.ts";
import { formatSize, parsePercent, parseSize } from "./parse_size.ts";
import { parseDurationMs } from "../parse_duration.ts";
import { DEFAULT_PATH, findExecutableSync, isExecutableFileInfo } from "../find_executable.ts";

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Environment lookup, used for `PATH` (finding a bare executable name), `XDG_STATE_HOME`
   * and `HOME` (the default `[local] dir`). Default `Deno.env.get`.
   */
  env?: (name: string) => string | undefined;
  /**
   * User id wrapp runs as; root (0) gets `/var/lib/wrapp/<stream_name>` as default
   * `[local] dir`. Default `Deno.uid()` (asked only when `dir` is not set).
   */
  uid?: number | null;
  /**
   * Check the machine, as `wrapp run` would find it: the executable exists and is
   * executable (looking bare names up in PATH), `cwd` is a directory, the folders wrapp
   * writes (the local trace's, the Redis spool's) can be created and written, and (in
   * {@linkcode loadConfig} only) `user` and `group` exist. Without it, a bare executable
   * name is kept as is in `resolvedExecutable`. Default `true`.
   */
  checkExecutable?: boolean;
  /** Folder a relative config path is relative to. Default `Deno.cwd()`. */
  cwd?: string;
}

/** Options of {@linkcode parseConfig}. */
export interface ParseConfigOptions extends LoadConfigOptions {
  /**
   * Path of the config file as the user wrote it: quoted in error messages, and its folder
   * (relative to `cwd`) is what relative paths in the config are relative to.
   */
  file: string;
  /** How `text` is written. Default: `"json"` when `file` ends in `.json`, else `"toml"`. */
  format?: ConfigFormat;
}

/** The languages a config can be written in. */
export type ConfigFormat = "toml" | "json";

/** The format {@linkcode loadConfig} reads `file` in: JSON for a name ending in `.json`, else TOML. */
export function configFormat(file: string): ConfigFormat {
  return /\.json$/i.test(file) ? "json" : "toml";
}

/**
 * Read, parse and validate the config file at `path`: JSON when its name ends in `.json`,
 * else TOML.
 *
 * @throws {ConfigError} when the file cannot be read or the config is invalid.
 *
 * ```ts
 * const config = await loadConfig("examples/hello.toml");
 * config.app.resolvedExecutable; // "/…/examples/hello.sh"
 * ```
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(resolve(options.cwd ?? Deno.cwd(), path));
  } catch (error) {
    throw new ConfigError(`Cannot read config "${path}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  const parser = new _Parser(text.replace(/^\uFEFF/, ""), { ...options, file: path });
  const config = parser.config();
  if (options.checkExecutable ?? true) await parser.checkAccounts(config);
  return config;
}

/**
 * Parse and validate config text, the way {@linkcode loadConfig} does after reading it.
 * Synchronous: the only filesystem access is the checks `checkExecutable` asks for.
 *
 * @throws {ConfigError} when the config is invalid.
 */
export function parseConfig(text: string, options: ParseConfigOptions): Config {
  return new _Parser(text.replace(/^\uFEFF/, ""), options).config();
}

/** The kinds of value a config key holds. */
export type FieldKind =
  | "string"
  | "boolean"
  | "integer"
  | "number"
  | "duration"
  | "string_array"
  | "string_table"
  | "size"
  | "percent";

/** How one config key is checked and defaulted. */
export interface FieldSpec {
  /**
   * Type of the value. A `duration` is seconds or a string like `"500ms"`, and becomes
   * milliseconds; a `size` is bytes or a string like `"512M"` (see ./parse_size.ts), and
   * becomes bytes; a `percent` is a string like `"50%"`, and becomes the number.
   */
  kind: FieldKind;
  /** The key must be present. Default `false`. */
  required?: boolean;
  /**
   * Value when the key is absent, in {@linkcode Config} units (milliseconds for durations).
   * Keys with neither a default nor `required` are optional, or computed by {@linkcode parseConfig}.
   */
  default?: unknown;
  /** Smallest allowed integer, duration in milliseconds, size in bytes or percentage. */
  min?: number;
  /** Largest allowed integer, duration in milliseconds, size in bytes or percentage. */
  max?: number;
  /** Strings: the value must match this. Default: any non-empty string. */
  pattern?: RegExp;
  /** Strings: what `pattern` accepts, as the end of "must be …". */
  patternText?: string;
  /** Strings: a line break is not allowed. Default `false`. */
  singleLine?: boolean;
  /** Never shown: `wrapp check` prints `"********"` instead. Default `false`. */
  secret?: boolean;
}

/** How one `[section]` is checked. */
export interface SectionSpec {
  /** The section must be present. Default `false`. */
  required?: boolean;
  /** When absent, the section is absent from {@linkcode Config} too (rather than all defaults). Default `false`. */
  optional?: boolean;
  /** The keys, in the order `wrapp check` prints them. */
  fields: Record<string, FieldSpec>;
}

/** Name of a config section. */
export type SectionName =
  | "app"
  | "output"
  | "local"
  | "restart"
  | "crash"
  | "trace"
  | "memprof"
  | "metrics"
  | "limits"
  | "redis"
  | "debug"
  | "watchdog";

/** What a `stream_name` may be: it becomes Redis keys and folder names. */
export const STREAM_NAME_PATTERN: RegExp = /^(?!\.\.?$)[A-Za-z0-9_.-]+$/;

const _STREAM_NAME_TEXT = 'a name of letters, digits, "_", "." and "-" other than "." and ".."';

/**
 * Every section and key of a config file. Add a key here and it is accepted, checked,
 * defaulted and printed by `wrapp check`; then add its property (the key in camelCase,
 * with `Ms` appended for durations) to the matching interface in `config.ts`.
 */
export const CONFIG_SCHEMA: { readonly [section in SectionName]: SectionSpec } = {
  app: {
    required: true,
    fields: {
      executable: { kind: "string", required: true },
      args: { kind: "string_array", default: [] },
      user: { kind: "string" },
      group: { kind: "string" },
      stream_name: {
        kind: "string",
        pattern: STREAM_NAME_PATTERN,
        patternText: _STREAM_NAME_TEXT,
      },
      cwd: { kind: "string" },
      env: { kind: "string_table", default: {} },
      inherit_env: { kind: "boolean", default: true },
      stop_grace: { kind: "duration", default: 10_000, min: 0 },
    },
  },
  output: {
    fields: {
      echo: { kind: "boolean", default: true },
      max_line_bytes: { kind: "integer", default: 65536, min: 256, max: 16777216 },
      multiline_start: { kind: "string", default: ">>|", singleLine: true },
      multiline_end: { kind: "string", default: "|<<", singleLine: true },
      multiline_max_lines: { kind: "integer", default: 1000, min: 1 },
      multiline_max_bytes: { kind: "integer", default: 1048576, min: 1 },
      multiline_timeout: { kind: "duration", default: 5000, min: 1 },
      markers: { kind: "boolean", default: true },
    },
  },
  local: {
    fields: {
      enabled: { kind: "boolean" },
      dir: { kind: "string" },
      keep_runs: { kind: "integer", default: 20, min: 1 },
    },
  },
  restart: {
    fields: {
      policy: {
        kind: "string",
        default: "never",
        pattern: /^(never|on-failure|always)$/,
        patternText: '"never", "on-failure" or "always"',
      },
      delay: { kind: "duration", default: 1000, min: 0 },
      max_delay: { kind: "duration", default: 30_000, min: 0 },
      reset_after: { kind: "duration", default: 60_000, min: 0 },
      max_restarts: { kind: "integer", default: 5, min: 0 },
      window: { kind: "duration", default: 300_000, min: 1 },
    },
  },
  crash: {
    fields: {
      enabled: { kind: "boolean", default: true },
      core_dumps: { kind: "boolean", default: false },
      ebpf_backtrace: { kind: "boolean", default: true },
      core_timeout: { kind: "duration", default: 10_000, min: 0 },
      gdb: { kind: "string", default: "gdb" },
      gdb_timeout: { kind: "duration", default: 30_000, min: 100 },
    },
  },
  trace: {
    optional: true,
    fields: {
      enabled: { kind: "boolean", default: true },
      threshold: { kind: "number", default: 3, min: 0 },
      slow: { kind: "duration", min: 0 },
      floor: { kind: "duration", default: 1, min: 0 },
      per_thread: { kind: "boolean", default: false },
    },
  },
  memprof: {
    optional: true,
    fields: {
      enabled: { kind: "boolean", default: true },
      every: { kind: "duration", default: 10_000, min: 1000 },
      top: { kind: "integer", default: 10, min: 1, max: 100 },
      listen: {
        kind: "string",
        default: "127.0.0.1:17832",
        pattern: /^$|^(?:(?:\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):)?\d{1,5}$/,
        patternText: 'PORT, HOST:PORT, or "" for no server',
      },
      max_pages: { kind: "integer", default: 262_144, min: 1024 },
      all_pages: { kind: "boolean", default: false },
    },
  },
  metrics: {
    fields: {
      enabled: { kind: "boolean", default: true },
      every: { kind: "duration", default: 5000, min: 1000 },
    },
  },
  limits: {
    optional: true,
    fields: {
      memory_max: { kind: "size", min: 1024 * 1024 },
      cpu_max: { kind: "percent", min: 1, max: 100_000 },
    },
  },
  redis: {
    optional: true,
    fields: {
      url: {
        kind: "string",
        pattern: /^rediss?:\/\/[^\s]*$/,
        patternText: 'a "redis://" or "rediss://" URL',
        secret: true,
      },
      host: { kind: "string", default: "127.0.0.1" },
      port: { kind: "integer", default: 6379, min: 1, max: 65535 },
      tls: { kind: "boolean", default: false },
      username: { kind: "string" },
      password: { kind: "string", secret: true },
      password_file: { kind: "string" },
      db_logs: { kind: "integer", default: 1, min: 0, max: 15 },
      db_values: { kind: "integer", default: 2, min: 0, max: 15 },
      db_state: { kind: "integer", default: 5, min: 0, max: 15 },
      max_len: { kind: "integer", default: 1000, min: 1 },
      health_interval: { kind: "duration", default: 60_000, min: 100 },
      memory_queue: { kind: "integer", default: 100_000, min: 1 },
      spool_dir: { kind: "string" },
      spool_max_bytes: { kind: "integer", default: 268_435_456, min: 1 },
      policy: {
        kind: "string",
        default: "drop_oldest",
        pattern: /^(drop_oldest|block)$/,
        patternText: '"drop_oldest" or "block"',
      },
      layout: {
        kind: "string",
        default: "go",
        pattern: /^(go|wrapp)$/,
        patternText: '"go" or "wrapp"',
      },
      secrets_dir: { kind: "string" },
      sentinels: { kind: "string_array" },
      master_name: { kind: "string", singleLine: true },
      sentinel_username: { kind: "string" },
      sentinel_password: { kind: "string", secret: true },
      replicas_ack: { kind: "integer", default: 0, min: 0, max: 16 },
      replicas_ack_timeout: { kind: "duration", default: 1000, min: 1, max: 60_000 },
    },
  },
  debug: {
    optional: true,
    fields: {
      enabled: { kind: "boolean", default: false },
      host: { kind: "string", default: "127.0.0.1", singleLine: true },
      port: { kind: "integer", default: 2345, min: 1, max: 65535 },
    },
  },
  watchdog: {
    optional: true,
    fields: {
      enabled: { kind: "boolean", default: true },
      timeout: { kind: "duration", min: 1 },
      silence: { kind: "duration", min: 1 },
      socket: { kind: "string", singleLine: true },
    },
  },
};

/**
 * The {@linkcode Config} property a key becomes: camelCase, with `Ms` appended for
 * durations, `Bytes` for sizes and `Percent` for percentages.
 */
export function fieldProperty(key: string, field: FieldSpec): string {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const unit = { duration: "Ms", size: "Bytes", percent: "Percent" }[field.kind as string] ?? "";
  return camel + unit;
}

/** The "must be …" text for a key: `an integer between 256 and 16777216`. */
export function describeField(field: FieldSpec): string {
  switch (field.kind) {
    case "string":
      if (field.patternText) return field.patternText;
      return field.singleLine ? "a non-empty string without line breaks" : "a non-empty string";
    case "boolean":
      return "true or false";
    case "integer":
      if (field.min !== undefined && field.max !== undefined) {
        return `an integer between ${field.min} and ${field.max}`;
      }
      if (field.min !== undefined) return `an integer of at least ${field.min}`;
      return "an integer";
    case "number":
      if (field.min !== undefined && field.max !== undefined) {
        return `a number between ${field.min} and ${field.max}`;
      }
      if (field.min !== undefined) return `a number of at least ${field.min}`;
      return "a number";
    case "duration":
      return `a ${
        field.min ? "positive " : ""
      }duration (seconds, or a string such as "500ms", "10s" or "2m")`;
    case "string_array":
      return "an array of strings";
    case "string_table":
      return "a table of strings";
    case "size":
      return `a size such as "512M", "1G" or a number of bytes${
        field.min ? ` (at least ${formatSize(field.min)})` : ""
      }`;
    case "percent":
      return `a percentage such as "50%" (${field.min ?? 0}% to ${
        field.max ?? "any"
      }%; above 100% is more than one core)`;
  }
}

/** Render a TOML value the way error messages quote it: `"big"`, `42`, `[1, "a"]`, `{ a = 1 }`. */
export function showTomlValue(value: unknown): string {
  const text = _show(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function _show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (value instanceof TomlDate) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(_show).join(", ")}]`;
  if (_isTable(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${_showKey(k)} = ${_show(v)}`);
    return entries.length ? `{ ${entries.join(", ")} }` : "{}";
  }
  return String(value);
}

function _showKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

function _isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

const _INVALID = Symbol("invalid");
// Linux's limits on a file name and a whole path, in bytes (NAME_MAX, PATH_MAX - 1).
const _NAME_MAX = 255;
const _PATH_MAX = 4095;
// A unix socket's path: sun_path is 108 bytes with its NUL.
const _SOCKET_PATH_MAX = 107;

/** `text` cut to 60 characters for a message. */
function _shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Milliseconds in a duration value (`10`, `0.5`, `"500ms"`, `"1m30s"`), or `_INVALID`. */
function _durationMs(value: unknown): number | typeof _INVALID {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : _INVALID;
  }
  if (typeof value !== "string") return _INVALID;
  return parseDurationMs(value) ?? _INVALID;
}

/**
 * `""` for an optional string key whose pattern does not accept it means "not set", as in the
 * Go wrapp (`password = ""`, `user = ""`). A required key stays an error.
 */
function _meansNotSet(field: FieldSpec, value: unknown): boolean {
  return value === "" && field.kind === "string" && !field.required && !field.pattern?.test("");
}

/** The value in Config units, or `_INVALID` when it does not fit the field (string tables are checked elsewhere). */
function _coerce(field: FieldSpec, value: unknown): unknown {
  switch (field.kind) {
    case "string":
      // Empty only where the field's pattern says so.
      if (typeof value !== "string" || (value === "" && !field.pattern?.test(""))) {
        return _INVALID;
      }
      if (field.singleLine && /[\r\n]/.test(value)) return _INVALID;
      if (field.pattern && !field.pattern.test(value)) return _INVALID;
      return value;
    case "boolean":
      return typeof value === "boolean" ? value : _INVALID;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return _INVALID;
      if (field.min !== undefined && value < field.min) return _INVALID;
      if (field.max !== undefined && value > field.max) return _INVALID;
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return _INVALID;
      if (field.min !== undefined && value < field.min) return _INVALID;
      if (field.max !== undefined && value > field.max) return _INVALID;
      return value;
    case "duration": {
      const ms = _durationMs(value);
      if (ms === _INVALID) return _INVALID;
      if (field.min !== undefined && ms < field.min) return _INVALID;
      if (field.max !== undefined && ms > field.max) return _INVALID;
      return ms;
    }
    case "string_array":
      return Array.isArray(value) && value.every((item) => typeof item === "string")
        ? [...value]
        : _INVALID;
    case "string_table":
      return _isTable(value) ? { ...value } : _INVALID;
    case "size":
    case "percent": {
      const number = field.kind === "size" ? parseSize(value) : parsePercent(value);
      if (number === undefined) return _INVALID;
      if (field.min !== undefined && number < field.min) return _INVALID;
      if (field.max !== undefined && number > field.max) return _INVALID;
      return number;
    }
  }
}

type _Values = Record<string, unknown>;

class _Parser {
  readonly #text: string;
  readonly #file: string;
  readonly #folder: string;
  readonly #absoluteFile: string;
  readonly #env: (name: string) => string | undefined;
  readonly #options: ParseConfigOptions;
  readonly #format: ConfigFormat;
  #positions?: { get(path: readonly string[]): { line: number; column: number } | undefined };

  constructor(text: string, options: ParseConfigOptions) {
    this.#text = text;
    this.#file = options.file;
    this.#format = options.format ?? configFormat(options.file);
    this.#absoluteFile = resolve(options.cwd ?? Deno.cwd(), options.file);
    this.#folder = dirname(this.#absoluteFile);
    this.#env = options.env ?? ((name) => Deno.env.get(name));
    this.#options = options;
  }

  config(): Config {
    const sections = this.#sections(this.#parse());
    const app = sections.app;
    const output = sections.output as unknown as OutputConfig;
    const rawLocal = sections.local;
    const rawRedis = sections.redis;

    if (output.multilineStart === output.multilineEnd) {
      throw this.#error(
        `"multiline_end" in [output] must differ from "multiline_start", both are ${
          this.#show(output.multilineEnd)
        }`,
        ["output", "multiline_end"],
        ["output", "multiline_start"],
      );
    }

    const executable = app.executable as string;
    let streamName = app.streamName as string | undefined;
    if (streamName === undefined) {
      streamName = basename(executable);
      if (!STREAM_NAME_PATTERN.test(streamName)) {
        throw this.#error(
          `the executable's name ${
            JSON.stringify(streamName)
          } cannot be the stream name: set "stream_name" in [app] to ${_STREAM_NAME_TEXT}`,
          ["app", "executable"],
        );
      }
    }
    const writtenCwd = app.cwd as string | undefined;
    const cwd = writtenCwd === undefined ? this.#folder : resolve(this.#folder, writtenCwd);
    const env = app.env as Record<string, string>;
    const args = app.args as string[];
    const nul = args.findIndex((arg) => arg.includes("\0"));
    if (nul !== -1) {
      // No program can receive it: the service would not start (exit 127).
      throw this.#error(
        `"args" in [app] must not contain a NUL character, found in argument ${nul + 1}`,
        ["app", "args"],
      );
    }
    const check = this.#options.checkExecutable ?? true;
    const resolvedExecutable = this.#resolveExecutable(executable, env.PATH, check);
    if (check) this.#checkCwd(writtenCwd ?? cwd, cwd);

    const local: LocalConfig = {
      enabled: (rawLocal.enabled as boolean | undefined) ?? rawRedis === undefined,
      dir: "",
      keepRuns: rawLocal.keepRuns as number,
    };
    local.dir = rawLocal.dir === undefined
      ? this.#defaultLocalDir(streamName, local.enabled)
      : resolve(this.#folder, rawLocal.dir as string);
    if (check && local.enabled) {
      this.#checkFolder(local.dir, "the local trace folder", streamName, {
        key: ["local", "dir"],
        set: rawLocal.dir !== undefined,
      });
    }

    const appConfig: AppConfig = {
      executable,
      resolvedExecutable,
      args: app.args as string[],
      ...(app.user === undefined ? {} : { user: app.user as string }),
      ...(app.group === undefined ? {} : { group: app.group as string }),
      streamName,
      cwd,
      env,
      inheritEnv: app.inheritEnv as boolean,
      stopGraceMs: app.stopGraceMs as number,
    };
    const restart = sections.restart as unknown as RestartConfig;
    const crash = sections.crash as unknown as CrashConfig;
    const trace = sections.trace as unknown as TraceConfig | undefined;
    const memprof = sections.memprof as unknown as MemprofConfig | undefined;
    const debug = sections.debug as unknown as DebugConfig | undefined;
    const watchdog = sections.watchdog && this.#watchdog(sections.watchdog, streamName);
    const metrics = sections.metrics as unknown as MetricsConfig;
    const limits = sections.limits as unknown as LimitsConfig | undefined;
    const redis = rawRedis && this.#redis(rawRedis, streamName);
    if (check && redis) {
      this.#checkFolder(redis.spoolDir, "the Redis spool folder", streamName, {
        key: ["redis", "spool_dir"],
        set: rawRedis.spoolDir !== undefined,
      });
    }
    const config: Config = {
      file: this.#absoluteFile,
      app: appConfig,
      output,
      local,
      restart,
      crash,
      metrics,
    };
    if (limits) config.limits = limits;
    if (redis) config.redis = redis;
    if (trace?.enabled) config.trace = trace;
    if (memprof?.enabled) config.memprof = memprof;
    if (debug?.enabled) config.debug = debug;
    if (watchdog?.enabled) config.watchdog = watchdog;
    return config;
  }

  #parse(): Record<string, unknown> {
    if (this.#format === "json") return this.#parseJson();
    try {
      return parse(this.#text);
    } catch (error) {
      if (!(error instanceof TomlError)) throw error;
      const reason = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      // A JSON config under another name: say why it was read as TOML.
      const hint = this.#text.trimStart().startsWith("{")
        ? ' (read as TOML: a JSON config must have a name ending in ".json")'
        : "";
      throw new ConfigError(
        `Invalid config "${this.#file}" at line ${error.line}, column ${error.column}: ${reason}${hint}`,
        { cause: error },
      );
    }
  }

  #parseJson(): Record<string, unknown> {
    let document;
    try {
      document = parseJsonDocument(this.#text);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      throw new ConfigError(
        `Invalid config "${this.#file}" at line ${error.line}, column ${error.column}: invalid JSON: ${error.reason}`,
        { cause: error },
      );
    }
    this.#positions = document.positions;
    if (!_isTable(document.value)) {
      throw this.#error(
        `a JSON config must be an object such as {"app": {"executable": "…"}}, got ${
          this.#show(document.value)
        }`,
      );
    }
    return document.value;
  }

  /** `key` is a comment: in JSON, a key starting with "_" (the Go wrapp's convention). */
  #isComment(key: string): boolean {
    return this.#format === "json" && key.startsWith("_");
  }

  /** A value as error messages quote it, in the config's own language. */
  #show(value: unknown): string {
    if (this.#format === "toml") return showTomlValue(value);
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }

  /** Check every section against the schema; the values are in Config units, defaults applied. */
  #sections(
    document: Record<string, unknown>,
  ): Record<Exclude<SectionName, "redis" | "debug" | "watchdog" | "limits">, _Values> & {
    redis?: _Values;
    debug?: _Values;
    watchdog?: _Values;
    limits?: _Values;
  } {
    const names = Object.keys(CONFIG_SCHEMA) as SectionName[];
    const found: Partial<Record<SectionName, _Values>> = {};
    for (const [name, value] of Object.entries(document)) {
      if (this.#isComment(name)) continue;
      if (!Object.hasOwn(CONFIG_SCHEMA, name)) {
        if (_isTable(value)) {
          const suggestion = didYouMean(name, names);
          throw this.#error(
            `unknown section [${name}]${suggestion ? ` (did you mean [${suggestion}]?)` : ""}`,
            [name],
          );
        }
        const home = names.find((section) => Object.hasOwn(CONFIG_SCHEMA[section].fields, name));
        throw this.#error(
          home
            ? `unknown top-level key "${name}" (did you mean to put it in [${home}]?)`
            : `unknown top-level key "${name}": every key belongs in a section such as [app]`,
          [name],
        );
      }
      const section = name as SectionName;
      if (value === null) continue; // JSON null: not set
      if (!_isTable(value)) {
        const table = this.#format === "json" ? "an object" : "a table";
        throw this.#error(`[${section}] must be ${table}, got ${this.#show(value)}`, [section]);
      }
      found[section] = this.#section(section, value);
    }
    for (const section of names) {
      if (found[section]) continue;
      const spec = CONFIG_SCHEMA[section];
      if (spec.required) throw this.#error(`missing required section [${section}]`);
      if (!spec.optional) found[section] = this.#section(section, {});
    }
    return found as Record<
      Exclude<SectionName, "redis" | "debug" | "watchdog" | "limits">,
      _Values
    >;
  }

  #section(section: SectionName, table: Record<string, unknown>): _Values {
    const fields = CONFIG_SCHEMA[section].fields;
    const values: _Values = {};
    for (const [key, value] of Object.entries(table)) {
      if (this.#isComment(key)) continue;
      if (!Object.hasOwn(fields, key)) {
        const suggestion = didYouMean(key, Object.keys(fields));
        throw this.#error(
          `unknown key "${key}" in [${section}]${
            suggestion ? ` (did you mean "${suggestion}"?)` : ""
          }`,
          [section, key],
        );
      }
      const field = fields[key];
      if (value === null || _meansNotSet(field, value)) continue;
      const coerced = _coerce(field, value);
      if (coerced === _INVALID) {
        throw this.#error(
          `"${key}" in [${section}] must be ${describeField(field)}, got ${this.#show(value)}`,
          [section, key],
        );
      }
      if (field.kind === "string_table") this.#checkStringTable(section, key, coerced as _Values);
      values[fieldProperty(key, field)] = coerced;
    }
    for (const [key, field] of Object.entries(fields)) {
      const property = fieldProperty(key, field);
      if (Object.hasOwn(values, property)) continue;
      if (field.required) throw this.#error(`missing required key "${key}" in [${section}]`);
      if (field.default !== undefined) values[property] = structuredClone(field.default);
    }
    return values;
  }

  #checkStringTable(section: string, key: string, table: _Values): void {
    for (const [name, value] of Object.entries(table)) {
      const path = [section, key, name];
      if (typeof value !== "string") {
        throw this.#error(
          `"${name}" in [${section}.${key}] must be a string, got ${this.#show(value)}`,
          path,
        );
      }
      if (name === "" || /[=\0]/.test(name)) {
        throw this.#error(
          `"${name}" in [${section}.${key}] is not a valid environment variable name`,
          path,
        );
      }
      if (value.includes("\0")) {
        // No program can receive it: the service would not start (exit 127).
        throw this.#error(
          `"${name}" in [${section}.${key}] must not contain a NUL character`,
          path,
        );
      }
    }
  }

  /** The absolute path to run; with `check`, it must exist and be executable. */
  #resolveExecutable(executable: string, envPath: string | undefined, check: boolean): string {
    const at = ["app", "executable"];
    if (!executable.includes("/")) {
      if (!check) return executable;
      const path = envPath ?? this.#env("PATH") ?? DEFAULT_PATH;
      const found = findExecutableSync(executable, { path, relativeFolders: "skip" });
      if (found !== undefined) return found;
      throw this.#error(`executable "${executable}" was not found in PATH`, at);
    }
    const resolved = resolve(this.#folder, executable);
    if (!check) return resolved;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(resolved);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw this.#error(`executable "${executable}" does not exist`, at);
      }
      throw this.#error(
        `executable "${executable}" cannot be checked: ${describeCause(error)}`,
        at,
      );
    }
    if (!isExecutableFileInfo(info)) {
      throw this.#error(`executable "${executable}" is not executable`, at);
    }
    return resolved;
  }

  /**
   * `[app] user` and `group` exist, looked up as `wrapp run` does
   * ({@linkcode lookupUser}, {@linkcode lookupGroupId}). Whether wrapp may switch to them
   * (it needs root) is not checked: `check` may run as anyone.
   */
  async checkAccounts(config: Config): Promise<void> {
    const { user, group } = config.app;
    if (user !== undefined && await lookupUser(user) === undefined) {
      throw this.#error(`user "${user}" in [app] does not exist on this machine`, ["app", "user"]);
    }
    if (group !== undefined && await lookupGroupId(group) === undefined) {
      throw this.#error(`group "${group}" in [app] does not exist on this machine`, [
        "app",
        "group",
      ]);
    }
  }

  /**
   * `wrapp run` can create and write `path` (which may not exist yet): every folder name
   * in it fits the 255-byte limit, the path the 4095-byte one, the nearest existing
   * folder on the way is one, and a file can be created in it (a probe, removed at once:
   * only trying tells a read-only mount or an ACL apart).
   */
  #checkFolder(
    path: string,
    what: string,
    streamName: string,
    options: { key: string[]; set: boolean },
  ): void {
    // Written by the user: point at the key; computed from the stream name: at that.
    const at = options.set ? [options.key] : [["app", "stream_name"], ["app", "executable"]];
    const fix = options.set
      ? `set a shorter "${options.key[1]}" in [${options.key[0]}]`
      : `set a shorter "stream_name" in [app], or "${options.key[1]}" in [${options.key[0]}]`;
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    for (const part of path.split("/")) {
      if (bytes(part) <= _NAME_MAX) continue;
      const whose = !options.set && part === streamName ? " (the stream name)" : "";
      throw this.#error(
        `${what} "${_shorten(path)}" cannot be created: its folder name "${
          _shorten(part)
        }"${whose} is ${bytes(part)} bytes, more than the ${_NAME_MAX} a name may have; ${fix}`,
        ...at,
      );
    }
    if (bytes(path) > _PATH_MAX) {
      throw this.#error(
        `${what} "${_shorten(path)}" cannot be created: its path is ${
          bytes(path)
        } bytes, more than ${_PATH_MAX}; ${fix}`,
        ...at,
      );
    }
    let existing = path;
    while (true) {
      try {
        if (!Deno.statSync(existing).isDirectory) {
          throw this.#error(
            `${what} "${path}" cannot be created: "${existing}" is not a folder`,
            ...at,
          );
        }
        break;
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        // ENOTDIR: a file on the way, reported when the walk reaches it.
        const missing = error instanceof Deno.errors.NotFound ||
          error instanceof Deno.errors.NotADirectory;
        if (!missing || existing === "/") {
          throw this.#error(
            `${what} "${path}" cannot be checked: ${describeCause(error)}`,
            ...at,
          );
        }
        existing = dirname(existing);
      }
    }
    try {
      Deno.removeSync(Deno.makeTempFileSync({ dir: existing, prefix: ".wrapp-check-" }));
    } catch (error) {
      const where = existing === path ? "" : ` (it would be created in "${existing}")`;
      throw this.#error(
        `${what} "${path}" is not writable${where}: ${describeCause(error)}`,
        ...at,
      );
    }
  }

  #checkCwd(written: string, cwd: string): void {
    const at = ["app", "cwd"];
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(cwd);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw this.#error(`cwd "${written}" does not exist`, at);
      }
      throw this.#error(`cwd "${written}" cannot be checked: ${describeCause(error)}`, at);
    }
    if (!info.isDirectory) throw this.#error(`cwd "${written}" is not a directory`, at);
  }

  /**
   * `[redis]` after its keys are checked: a `url` overrides host, port, TLS and
   * credentials; the password comes from `password`, `password_file`, `secrets_dir`, the
   * URL, or `$WRAPP_REDIS_PASSWORD`, in that order.
   */
  #redis(raw: _Values, streamName: string): RedisConfig {
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
        throw this.#error(`"url" in [redis]: ${problem}`, ["redis", "url"]);
      }
      ({ host, port } = parsed);
      tls = parsed.tls ?? false;
      urlUsername = parsed.username;
      urlPassword = parsed.password;
      username = urlUsername ?? username;
    }
    if (raw.password !== undefined && raw.passwordFile !== undefined) {
      throw this.#error(
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
        throw this.#error(
          `"secrets_dir" and ${what} in [redis] are both set: keep one (secrets_dir gives the user name and the password)`,
          ["redis", "secrets_dir"],
        );
      }
      secretsDir = resolve(this.#folder, raw.secretsDir as string);
      username = basename(secretsDir);
      password = this.#secretsPassword(secretsDir);
      passwordSource = "secrets_dir";
    } else if (raw.passwordFile !== undefined) {
      const path = resolve(this.#folder, raw.passwordFile as string);
      try {
        password = Deno.readTextFileSync(path).replace(/\r?\n$/, "");
      } catch (error) {
        throw this.#error(
          `cannot read "password_file" ${JSON.stringify(raw.passwordFile)}: ${
            describeCause(error)
          }`,
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
      password = this.#env("WRAPP_REDIS_PASSWORD") || undefined;
      passwordSource = "env";
    }
    const sentinel = this.#sentinels(raw);
    const spoolDir = raw.spoolDir === undefined
      ? join(this.#defaultLocalDir(streamName, true), "spool")
      : resolve(this.#folder, raw.spoolDir as string);
    return {
      host,
      port,
      tls,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined || password === "" ? {} : { password, passwordSource }),
      ...(raw.passwordFile === undefined
        ? {}
        : { passwordFile: resolve(this.#folder, raw.passwordFile as string) }),
      ...(secretsDir === undefined ? {} : { secretsDir }),
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
  #sentinels(
    raw: _Values,
  ): Pick<RedisConfig, "sentinels" | "masterName" | "sentinelUsername" | "sentinelPassword"> {
    const list = raw.sentinels as string[] | undefined;
    const masterName = raw.masterName as string | undefined;
    const at = ["redis", "sentinels"];
    if (list !== undefined && list.length === 0) {
      throw this.#error(`"sentinels" in [redis] is empty: list at least one "host:port"`, at);
    }
    if (list === undefined) {
      for (const key of ["master_name", "sentinel_username", "sentinel_password"]) {
        if (raw[fieldProperty(key, CONFIG_SCHEMA.redis.fields[key])] !== undefined) {
          throw this.#error(
            `"${key}" in [redis] needs "sentinels": the addresses of the Redis Sentinels`,
            ["redis", key],
            at,
          );
        }
      }
      return {};
    }
    if (masterName === undefined) {
      throw this.#error(
        `"sentinels" in [redis] needs "master_name": the name the Sentinels monitor the master under`,
        at,
      );
    }
    this.#positions ??= tomlPositions(this.#text);
    for (const key of ["url", "host", "port"]) {
      if (this.#positions.get(["redis", key]) !== undefined && raw[key] !== undefined) {
        throw this.#error(
          `"${key}" and "sentinels" in [redis] are both set: keep one (the Sentinels name the master's address)`,
          ["redis", key],
        );
      }
    }
    const sentinels: string[] = [];
    for (const item of list) {
      const parsed = parseHostPort(item, SENTINEL_PORT);
      if (typeof parsed === "string") throw this.#error(`"sentinels" in [redis]: ${parsed}`, at);
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

  /** `[watchdog]` after its keys are checked: the socket's path resolved, and short enough for a socket. */
  #watchdog(raw: _Values, streamName: string): WatchdogConfig {
    let socket: string;
    if (raw.socket !== undefined) socket = resolve(this.#folder, raw.socket as string);
    else {
      const uid = this.#options.uid === undefined ? Deno.uid() : this.#options.uid;
      const dir = defaultRuntimeDir(streamName, { env: (name) => this.#env(name), uid });
      if (dir === undefined) {
        throw this.#error(
          `cannot choose a folder for the notify socket: set "socket" in [watchdog], or $XDG_RUNTIME_DIR or $HOME`,
          ["watchdog"],
        );
      }
      socket = join(dir, "notify.sock");
    }
    const bytes = new TextEncoder().encode(socket).length;
    if (bytes > _SOCKET_PATH_MAX) {
      throw this.#error(
        `the notify socket "${
          _shorten(socket)
        }" is ${bytes} bytes long, more than the ${_SOCKET_PATH_MAX} a unix socket's path may have; set a shorter "socket" in [watchdog]`,
        ["watchdog", "socket"],
        ["watchdog"],
      );
    }
    return {
      enabled: raw.enabled as boolean,
      ...(raw.timeoutMs === undefined ? {} : { timeoutMs: raw.timeoutMs as number }),
      ...(raw.silenceMs === undefined ? {} : { silenceMs: raw.silenceMs as number }),
      socket,
    };
  }

  /** The trimmed, non-empty content of `<dir>/password`, as the Go wrapp reads it. */
  #secretsPassword(dir: string): string {
    const at = ["redis", "secrets_dir"];
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(dir);
    } catch (error) {
      throw this.#error(
        error instanceof Deno.errors.NotFound
          ? `secrets_dir "${dir}" does not exist`
          : `secrets_dir "${dir}" cannot be checked: ${describeCause(error)}`,
        at,
      );
    }
    if (!info.isDirectory) throw this.#error(`secrets_dir "${dir}" is not a directory`, at);
    const path = join(dir, "password");
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (error) {
      throw this.#error(
        error instanceof Deno.errors.NotFound
          ? `secrets_dir "${dir}" has no password file: "${path}" does not exist`
          : `cannot read the Redis password from "${path}": ${describeCause(error)}`,
        at,
      );
    }
    const password = text.trim();
    if (password === "") throw this.#error(`the Redis password file "${path}" is empty`, at);
    return password;
  }

  #defaultLocalDir(streamName: string, enabled: boolean): string {
    const uid = this.#options.uid === undefined ? Deno.uid() : this.#options.uid;
    const dir = defaultStateDir(streamName, { env: (name) => this.#env(name), uid });
    if (dir !== undefined) return dir;
    if (!enabled) return join("/var/lib/wrapp", streamName); // unused
    throw this.#error(
      `cannot choose a folder for the local trace: set "dir" in [local], or $XDG_STATE_HOME or $HOME`,
    );
  }

  /** A ConfigError positioned at the first of `paths` the document defines. */
  #error(message: string, ...paths: string[][]): ConfigError {
    let where = "";
    for (const path of paths) {
      this.#positions ??= tomlPositions(this.#text);
      const position = this.#positions.get(path);
      if (position) {
        where = ` at line ${position.line}, column ${position.column}`;
        break;
      }
    }
    return new ConfigError(`Invalid config "${this.#file}"${where}: ${message}`);
  }
}
