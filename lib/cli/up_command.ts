/**
 * `wrapp up DIR`, `wrapp run a.toml b.toml …` and `wrapp check DIR`: many services in one
 * wrapp. Every config is loaded and validated before anything starts.
 *
 * @module
 */

import { join } from "node:path";
import type { Config } from "../core/config/config.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { formatConfig } from "../core/config/format_config.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { ConfigError, describeCause, UsageError, WrappError } from "../core/errors.ts";
import { checkGroupConflicts, ServiceGroup } from "../features/run/service_group.ts";
import { Supervisor } from "../features/run/supervisor.ts";
import { serveStatus } from "../features/run/status_socket.ts";
import { parseFlags } from "./parse_flags.ts";

/** `wrapp up --help`. */
export const UP_HELP = `Usage: wrapp up <dir|svc.toml>… [--debug]

Supervise every service configured in the folders and files given, from one wrapp: every
*.toml and *.json file in a folder (not its sub-folders), in name order. Each service
keeps its own pipeline, sinks, restart policy, crash capture, user and stop_grace, as
with one "wrapp run" each; their Redis sinks share one connection per server and
database. "wrapp run a.toml b.toml" does the same with files.

Every config is loaded and checked first: when one is invalid, or two share a
stream_name (or a [local] dir, spool_dir, [memprof] listen or [debug] address), nothing
starts and wrapp exits 2 naming the files.

With more than one service, each line echoed to stdout/stderr (and each wrapp notice)
starts with the service's name: "robot | line". A lone service echoes as "wrapp run".

SIGTERM and SIGINT stop every service, each waiting its own stop_grace before SIGKILL;
SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 go to every service. A service that ends for good
(its restart policy does not restart it) leaves the others running; wrapp exits once
all have ended: with 0 when every service ended with 0, else with the exit code of the
first service (in time) that ended with another.

Options:
  --debug     debug lines on stderr, each naming its service (also WRAPP_DEBUG=1)
  -h, --help  show this help

Examples:
  wrapp up /etc/wrapp/
  wrapp check /etc/wrapp/
  wrapp run camera.toml lidar.toml`;

/** The config files named by `paths`: files as given, folders as their `*.toml` and `*.json` files in name order. */
export async function configFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      throw new ConfigError(`Cannot read config "${path}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    if (!info.isDirectory) {
      files.push(path);
      continue;
    }
    const found: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (!/\.(toml|json)$/.test(entry.name) || entry.name.startsWith(".")) continue;
      const file = join(path, entry.name);
      // A symlink counts as what it points to (a folder named x.toml does not).
      if (entry.isFile || (entry.isSymlink && (await _isFile(file)))) found.push(file);
    }
    if (found.length === 0) throw new ConfigError(`No *.toml or *.json config in "${path}"`);
    files.push(...found.sort());
  }
  return files;
}

/**
 * Load every config in `paths` (see {@linkcode configFiles}) and check they can run
 * together. Throws one {@linkcode ConfigError} naming every bad file.
 */
export async function loadConfigs(paths: readonly string[]): Promise<Config[]> {
  const files = await configFiles(paths);
  const { configs, problems } = await _loadAll(files);
  if (problems.length > 0) throw _invalid(problems, files.length, ", nothing started");
  checkGroupConflicts(configs);
  return configs;
}

/** Supervise every service in `paths` until all have ended; resolves to wrapp's exit code. */
export async function runConfigs(paths: readonly string[], debug: DebugLog): Promise<number> {
  const configs = await loadConfigs(paths);
  for (const config of configs) {
    debug(`config ${config.file}: ${JSON.stringify({ ...config, redis: undefined })}`);
  }
  if (configs.length === 1) {
    // One service: exactly "wrapp run svc.toml".
    const supervisor = new Supervisor(configs[0], { debug });
    const result = await serveStatus([supervisor], () => supervisor.run(), { debug });
    debug(`exit code ${result.exitCode}`);
    return result.exitCode;
  }
  const group = new ServiceGroup(configs, { debug });
  const result = await serveStatus(group.supervisors, () => group.run(), { debug });
  debug(
    `exit code ${result.exitCode} (${
      result.ends.map((e) => `${e.name} ${e.exitCode}`).join(", ")
    })`,
  );
  return result.exitCode;
}

/**
 * `wrapp check` with several files or a folder: print each valid config's effective
 * config, then fail naming every bad file (and conflicts between the valid ones).
 */
export async function checkConfigs(
  paths: readonly string[],
  debug: DebugLog,
  print: (text: string) => void,
): Promise<number> {
  const files = await configFiles(paths);
  const { configs, problems } = await _loadAll(files);
  for (const config of configs) {
    debug(`config ${config.file} is valid`);
    print(`# ${config.file}: valid\n${formatConfig(config)}`);
  }
  if (problems.length > 0) throw _invalid(problems, files.length, "");
  checkGroupConflicts(configs);
  return 0;
}

/** `wrapp up <dir|svc.toml>… [--debug]`. */
export async function upCommand(
  args: readonly string[],
  context: { print: (text: string) => void; debug: DebugLog },
): Promise<number> {
  const options = {
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const { values, positionals } = parseFlags("up", args, options, Infinity);
  if (values.help) {
    context.print(UP_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(`Missing config folder: usage "wrapp up <dir|svc.toml>…"`);
  }
  return await runConfigs(positionals, values.debug ? stderrDebug() : context.debug);
}

async function _loadAll(
  files: readonly string[],
): Promise<{ configs: Config[]; problems: string[] }> {
  const configs: Config[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      configs.push(await loadConfig(file));
    } catch (error) {
      if (!(error instanceof WrappError)) throw error;
      problems.push(error.message);
    }
  }
  return { configs, problems };
}

function _invalid(problems: readonly string[], total: number, outcome: string): ConfigError {
  if (total === 1) return new ConfigError(problems[0]);
  return new ConfigError(
    `${problems.length} of ${total} configs are invalid${outcome}:\n  ${problems.join("\n  ")}`,
  );
}

async function _isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
