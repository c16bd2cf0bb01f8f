/**
 * Every section and key of a config file, described once: its type, default and bounds
 * ({@linkcode CONFIG_SCHEMA}). The checks, the defaults and `wrapp check`'s output are all
 * driven from this table.
 *
 * @module
 */

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

/** {@linkcode STREAM_NAME_PATTERN} in words, as the end of "must be …". */
export const STREAM_NAME_TEXT =
  'a name of letters, digits, "_", "." and "-" other than "." and ".."';

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
        patternText: STREAM_NAME_TEXT,
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
