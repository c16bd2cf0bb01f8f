/**
 * Command-line dispatch. main.ts hands it the arguments and exits with what it returns;
 * nothing here reads `Deno.args` or calls `Deno.exit`, so tests can drive it directly.
 *
 * @module
 */

import { UsageError, WrappError } from "../errors.ts";
import { type DebugLog, silentDebug, stderrDebug } from "../debug.ts";
import { loadConfig } from "../config/load_config.ts";
import { formatConfig } from "../config/format_config.ts";
import { didYouMean } from "../config/did_you_mean.ts";
import { runService } from "../supervise/supervisor.ts";
import { VERSION } from "../version.ts";
import { COMMAND_HELP, MAIN_HELP } from "./help.ts";
import { logsCommand } from "./logs_command.ts";
import { parseFlags } from "./parse_flags.ts";
import { clearCommand, getTefCommand, listCommand, serveCommand } from "./serve_command.ts";
import { traceCommand } from "./trace_command.ts";
import { memprofCommand } from "./memprof_command.ts";
import { doctorCommand } from "./doctor_command.ts";
import { recordCommand } from "./record_command.ts";
import { checkConfigs, runConfigs, upCommand } from "./up_command.ts";

/** What the CLI needs from its environment. */
export interface CliContext {
  /** Environment lookup (WRAPP_DEBUG). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Print to stdout. Default: `console.log`. */
  print?: (text: string) => void;
}

/** Commands that parse their own flags: `(args, { print, debug }) => exit code`. */
const FLAG_COMMANDS = {
  serve: serveCommand,
  list: listCommand,
  "get-tef": getTefCommand,
  clear: clearCommand,
  trace: traceCommand,
  memprof: memprofCommand,
  record: recordCommand,
  doctor: doctorCommand,
  up: upCommand,
} as const;

const COMMANDS = ["run", "check", "logs", "help", ...Object.keys(FLAG_COMMANDS)];

/** Run the CLI with `args`; resolves to the process exit code. Errors other than WrappError propagate. */
export async function cli(args: readonly string[], context: CliContext = {}): Promise<number> {
  const env = context.env ?? ((name: string) => Deno.env.get(name));
  const print = context.print ?? ((text: string) => console.log(text));
  const [first, ...rest] = args;

  if (first === undefined || first === "-h" || first === "--help") {
    print(MAIN_HELP);
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    print(`wrapp ${VERSION}`);
    return 0;
  }
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) print(MAIN_HELP);
    else if (COMMAND_HELP[topic]) print(COMMAND_HELP[topic]);
    else throw _unknownCommand(topic);
    return 0;
  }
  if (Object.hasOwn(FLAG_COMMANDS, first)) {
    const debug = _truthy(env("WRAPP_DEBUG")) ? stderrDebug() : silentDebug;
    return await FLAG_COMMANDS[first as keyof typeof FLAG_COMMANDS](rest, { print, debug });
  }
  if (first === "logs") {
    return await logsCommand(rest, { print, env, interrupted: _interrupted });
  }
  if (first === "run" || first === "check") {
    const parsed = _parseCommandArgs(first, rest);
    if (parsed.help) {
      print(COMMAND_HELP[first]);
      return 0;
    }
    const debug = parsed.debug || _truthy(env("WRAPP_DEBUG")) ? stderrDebug() : silentDebug;
    // Several files or a folder: every service from one wrapp (up_command.ts).
    if (parsed.files.length > 1 || await _isDirectory(parsed.file)) {
      return first === "run"
        ? await runConfigs(parsed.files, debug)
        : await checkConfigs(parsed.files, debug, print);
    }
    return first === "run"
      ? await _run(parsed.file, debug)
      : await _check(parsed.file, debug, print);
  }
  // The short form "wrapp svc.toml".
  if (!first.startsWith("-") && (first.endsWith(".toml") || await _isFile(first))) {
    return await cli(["run", ...args], context);
  }
  throw first.startsWith("-")
    ? new UsageError(`Unknown option "${first}": see "wrapp --help"`)
    : _unknownCommand(first);
}

function _unknownCommand(name: string): UsageError {
  const suggestion = didYouMean(name, COMMANDS);
  return new UsageError(
    `Unknown command "${name}"${
      suggestion ? ` (did you mean "${suggestion}"?)` : ""
    }: see "wrapp --help"`,
  );
}

function _parseCommandArgs(
  command: string,
  args: readonly string[],
): { file: string; files: string[]; debug: boolean; help: boolean } {
  const options = {
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const parsed = parseFlags(command, args, options, Infinity);
  const { values, positionals } = parsed;
  if (values.help) return { file: "", files: [], debug: false, help: true };
  if (positionals.length === 0) {
    throw new UsageError(`Missing config file: usage "wrapp ${command} <svc.toml>"`);
  }
  return { file: positionals[0], files: positionals, debug: values.debug === true, help: false };
}

async function _run(file: string, debug: DebugLog): Promise<number> {
  const config = await loadConfig(file);
  debug(`config ${config.file}: ${JSON.stringify({ ...config, redis: undefined })}`);
  const result = await runService(config, { debug });
  debug(`exit code ${result.exitCode}`);
  return result.exitCode;
}

async function _check(
  file: string,
  debug: DebugLog,
  print: (text: string) => void,
): Promise<number> {
  const config = await loadConfig(file);
  debug(`config ${config.file} is valid`);
  print(`# ${file}: valid\n${formatConfig(config)}`);
  return 0;
}

/** Resolves on the first SIGINT or SIGTERM (then stops listening, so a second one kills). */
function _interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handler = () => {
      for (const signal of signals) Deno.removeSignalListener(signal, handler);
      resolve();
    };
    for (const signal of signals) Deno.addSignalListener(signal, handler);
  });
}

function _truthy(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false", "no", "off"].includes(value.toLowerCase());
}

async function _isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function _isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Turn an error into the line printed on stderr and the exit code. */
export function reportError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof WrappError) {
    return { message: `wrapp: ${error.message}`, exitCode: error.exitCode };
  }
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  return { message: `wrapp: internal error (please report it): ${detail}`, exitCode: 70 };
}
