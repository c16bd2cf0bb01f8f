/**
 * `wrapp up DIR`, `wrapp run a.toml b.toml …` and `wrapp check DIR`: many services in one
 * wrapp. Every config is loaded and validated before anything starts.
 *
 * @module
 */

import { formatConfig } from "../core/config/format_config.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { UsageError } from "../core/errors.ts";
import { validateConfigSet } from "../features/run/config_set.ts";
import { superviseConfigs } from "../features/run/supervise_services.ts";
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

/**
 * Supervise every service in `paths` until all have ended; resolves to wrapp's exit code
 * (see {@linkcode superviseConfigs}).
 */
export async function runConfigs(paths: readonly string[], debug: DebugLog): Promise<number> {
  return await superviseConfigs(paths, debug);
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
  const { configs, error } = await validateConfigSet(paths);
  for (const config of configs) {
    debug(`config ${config.file} is valid`);
    print(`# ${config.file}: valid\n${formatConfig(config)}`);
  }
  if (error) throw error;
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
