/**
 * Command-line dispatch. main.ts hands it the arguments and exits with what it returns;
 * nothing here reads `Deno.args` or calls `Deno.exit`, so tests can drive it directly.
 *
 * @module
 */

import { UsageError, WrappError } from "../core/errors.ts";
import { type DebugLog, silentDebug, stderrDebug } from "../core/debug.ts";
import { didYouMean } from "../core/did_you_mean.ts";
import { VERSION } from "../core/version.ts";

// Every command is imported when it runs, not before: `wrapp run` on a robot must not load
// (nor keep in memory) the TUI, React, the memprof page or the recorder. Literal specifiers
// keep them in the module graph, so `deno compile` embeds them. tests/run_imports_test.ts checks.

/** What the CLI needs from its environment. */
export interface CliContext {
  /** Environment lookup (WRAPP_DEBUG). Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Print to stdout. Default: `console.log`. */
  print?: (text: string) => void;
}

/** A command that parses its own flags: `(args, { print, debug }) => exit code`. */
type FlagCommand = (
  args: readonly string[],
  context: { print: (text: string) => void; debug: DebugLog },
) => Promise<number>;

/** Commands that parse their own flags, each loaded on first use. */
const FLAG_COMMANDS: Record<string, () => Promise<FlagCommand>> = {
  serve: async () => (await import("./serve_command.ts")).serveCommand,
  list: async () => (await import("./serve_command.ts")).listCommand,
  "get-tef": async () => (await import("./serve_command.ts")).getTefCommand,
  clear: async () => (await import("./serve_command.ts")).clearCommand,
  trace: async () => (await import("./trace_command.ts")).traceCommand,
  memprof: async () => (await import("./memprof_command.ts")).memprofCommand,
  record: async () => (await import("./record_command.ts")).recordCommand,
  doctor: async () => (await import("./doctor_command.ts")).doctorCommand,
  up: async () => (await import("./up_command.ts")).upCommand,
  ps: async () => (await import("./ps_command.ts")).psCommand,
};

const COMMANDS = ["run", "check", "logs", "help", ...Object.keys(FLAG_COMMANDS)];

/** Run the CLI with `args`; resolves to the process exit code. Errors other than WrappError propagate. */
export async function cli(args: readonly string[], context: CliContext = {}): Promise<number> {
  const env = context.env ?? ((name: string) => Deno.env.get(name));
  const print = context.print ?? ((text: string) => console.log(text));
  const [first, ...rest] = args;

  if (first === undefined || first === "-h" || first === "--help") {
    print((await _help()).MAIN_HELP);
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    print(`wrapp ${VERSION}`);
    return 0;
  }
  if (first === "help") {
    const topic = rest[0];
    const { COMMAND_HELP, MAIN_HELP } = await _help();
    if (topic === undefined) print(MAIN_HELP);
    else if (COMMAND_HELP[topic]) print(COMMAND_HELP[topic]);
    else throw _unknownCommand(topic);
    return 0;
  }
  if (Object.hasOwn(FLAG_COMMANDS, first)) {
    const debug = _truthy(env("WRAPP_DEBUG")) ? stderrDebug() : silentDebug;
    const command = await FLAG_COMMANDS[first]();
    return await command(rest, { print, debug });
  }
  if (first === "logs") {
    const { logsCommand } = await import("./logs_command.ts");
    return await logsCommand(rest, { print, env, interrupted: _interrupted });
  }
  if (first === "run" || first === "check") {
    const parsed = await _parseCommandArgs(first, rest);
    if (parsed.help) {
      print((await _help()).COMMAND_HELP[first]);
      return 0;
    }
    const debug = parsed.debug || _truthy(env("WRAPP_DEBUG")) ? stderrDebug() : silentDebug;
    // Several files or a folder: every service from one wrapp (up_command.ts).
    if (parsed.files.length > 1 || await _isDirectory(parsed.file)) {
      const { checkConfigs, runConfigs } = await import("./up_command.ts");
      return first === "run"
        ? await runConfigs(parsed.files, debug)
        : await checkConfigs(parsed.files, debug, print);
    }
    if (first === "run") {
      const { runCommand } = await import("./run_command.ts");
      return await runCommand(parsed.file, { debug });
    }
    const { checkCommand } = await import("./check_command.ts");
    return await checkCommand(parsed.file, { debug, print });
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

async function _parseCommandArgs(
  command: string,
  args: readonly string[],
): Promise<{ file: string; files: string[]; debug: boolean; help: boolean }> {
  const options = {
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  // `wrapp run svc.toml [--debug]` is read here; anything else goes through parseFlags, whose
  // node:util would cost every start of a service 50 ms or more.
  const plain = args.every((arg) =>
    !arg.startsWith("-") || arg === "--debug" || arg === "--help" || arg === "-h"
  );
  const { values, positionals } = plain
    ? {
      values: {
        debug: args.includes("--debug"),
        help: args.includes("--help") || args.includes("-h"),
      },
      positionals: args.filter((arg) => !arg.startsWith("-")),
    }
    : (await import("./parse_flags.ts")).parseFlags(command, args, options, Infinity);
  if (values.help) return { file: "", files: [], debug: false, help: true };
  if (positionals.length === 0) {
    throw new UsageError(`Missing config file: usage "wrapp ${command} <svc.toml>"`);
  }
  return { file: positionals[0], files: positionals, debug: values.debug === true, help: false };
}

/** The help texts quote every command's own, so they load only when asked for. */
function _help(): Promise<typeof import("./help.ts")> {
  return import("./help.ts");
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
