/**
 * Loading and validating a service's config into a {@linkcode Config}: TOML, or JSON in the
 * Go wrapp's format when the file name ends in `.json`.
 *
 * Every key is described once in {@linkcode CONFIG_SCHEMA} (type, default, bounds,
 * `config_schema.ts`); the checks (`check_sections.ts`), the defaults and `wrapp check`'s
 * output are all driven from that table. Values
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

import { basename, resolve } from "../posix_path.ts";
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
  RestartConfig,
  TraceConfig,
} from "./config.ts";
import { STREAM_NAME_PATTERN, STREAM_NAME_TEXT } from "./config_schema.ts";
import { type ConfigFormat, ConfigSource } from "./config_source.ts";
import { checkSections, type SectionValues } from "./check_sections.ts";
import { checkAccounts, checkCwd, checkFolder, resolveExecutable } from "./machine_checks.ts";
import { redisSection } from "./redis_section.ts";
import { watchdogSection } from "./watchdog_section.ts";

export {
  CONFIG_SCHEMA,
  type FieldKind,
  fieldProperty,
  type FieldSpec,
  type SectionName,
  type SectionSpec,
  STREAM_NAME_PATTERN,
} from "./config_schema.ts";
export { describeField, showTomlValue } from "./describe_field.ts";
export { type ConfigFormat, configFormat } from "./config_source.ts";

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

/**
 * Read, parse and validate the config file at `path`: JSON when its name ends in `.json`,
 * else TOML.
 *
 * @throws {ConfigError} when the file cannot be read or the config is invalid.
 *
 * @example Loading a config
 * ```ts
 * import { loadConfig } from "@wrapp/wrapp";
 *
 * const config = await loadConfig("examples/hello.toml");
 * console.log(config.app.resolvedExecutable); // "/…/examples/hello.sh"
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
  const source = new ConfigSource(text.replace(/^\uFEFF/, ""), { ...options, file: path });
  const config = _config(source, options);
  if (options.checkExecutable ?? true) await checkAccounts(source, config);
  return config;
}

/**
 * Parse and validate config text, the way {@linkcode loadConfig} does after reading it.
 * Synchronous: the only filesystem access is the checks `checkExecutable` asks for.
 *
 * @throws {ConfigError} when the config is invalid.
 */
export function parseConfig(text: string, options: ParseConfigOptions): Config {
  return _config(new ConfigSource(text.replace(/^\uFEFF/, ""), options), options);
}

/** The Config of `source`: every section checked, then what depends on other values. */
function _config(source: ConfigSource, options: LoadConfigOptions): Config {
  const sections = checkSections(source, source.parse());
  const output = sections.output as unknown as OutputConfig;
  if (output.multilineStart === output.multilineEnd) {
    throw source.error(
      `"multiline_end" in [output] must differ from "multiline_start", both are ${
        source.show(output.multilineEnd)
      }`,
      ["output", "multiline_end"],
      ["output", "multiline_start"],
    );
  }
  const check = options.checkExecutable ?? true;
  const app = _app(source, sections.app, check);
  const { streamName } = app;
  const local = _local(source, sections.local, sections.redis !== undefined, streamName, check);
  // In this order: the first problem found is the one reported.
  const watchdog = sections.watchdog && watchdogSection(source, sections.watchdog, streamName);
  const rawRedis = sections.redis;
  const redis = rawRedis && redisSection(source, rawRedis, streamName);
  if (check && redis) {
    checkFolder(source, redis.spoolDir, "the Redis spool folder", streamName, {
      key: ["redis", "spool_dir"],
      set: rawRedis?.spoolDir !== undefined,
    });
  }
  const config: Config = {
    file: source.absoluteFile,
    app,
    output,
    local,
    restart: sections.restart as unknown as RestartConfig,
    crash: sections.crash as unknown as CrashConfig,
    metrics: sections.metrics as unknown as MetricsConfig,
  };
  const limits = sections.limits as unknown as LimitsConfig | undefined;
  const trace = sections.trace as unknown as TraceConfig | undefined;
  const memprof = sections.memprof as unknown as MemprofConfig | undefined;
  const debug = sections.debug as unknown as DebugConfig | undefined;
  if (limits) config.limits = limits;
  if (redis) config.redis = redis;
  if (trace?.enabled) config.trace = trace;
  if (memprof?.enabled) config.memprof = memprof;
  if (debug?.enabled) config.debug = debug;
  if (watchdog?.enabled) config.watchdog = watchdog;
  return config;
}

/** `[app]`: the stream name and cwd defaulted, the executable resolved (and checked). */
function _app(source: ConfigSource, app: SectionValues, check: boolean): AppConfig {
  const executable = app.executable as string;
  let streamName = app.streamName as string | undefined;
  if (streamName === undefined) {
    streamName = basename(executable);
    if (!STREAM_NAME_PATTERN.test(streamName)) {
      throw source.error(
        `the executable's name ${
          JSON.stringify(streamName)
        } cannot be the stream name: set "stream_name" in [app] to ${STREAM_NAME_TEXT}`,
        ["app", "executable"],
      );
    }
  }
  const writtenCwd = app.cwd as string | undefined;
  const cwd = writtenCwd === undefined ? source.folder : resolve(source.folder, writtenCwd);
  const env = app.env as Record<string, string>;
  const args = app.args as string[];
  const nul = args.findIndex((arg) => arg.includes("\0"));
  if (nul !== -1) {
    // No program can receive it: the service would not start (exit 127).
    throw source.error(
      `"args" in [app] must not contain a NUL character, found in argument ${nul + 1}`,
      ["app", "args"],
    );
  }
  const resolvedExecutable = resolveExecutable(source, executable, env.PATH, check);
  if (check) checkCwd(source, writtenCwd ?? cwd, cwd);
  return {
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
}

/** `[local]`: on by default without `[redis]`, in the state folder of the stream by default. */
function _local(
  source: ConfigSource,
  raw: SectionValues,
  hasRedis: boolean,
  streamName: string,
  check: boolean,
): LocalConfig {
  const enabled = (raw.enabled as boolean | undefined) ?? !hasRedis;
  const local: LocalConfig = {
    enabled,
    dir: raw.dir === undefined
      ? source.defaultLocalDir(streamName, enabled)
      : resolve(source.folder, raw.dir as string),
    keepRuns: raw.keepRuns as number,
  };
  if (check && local.enabled) {
    checkFolder(source, local.dir, "the local trace folder", streamName, {
      key: ["local", "dir"],
      set: raw.dir !== undefined,
    });
  }
  return local;
}
