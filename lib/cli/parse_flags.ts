/**
 * Flag parsing shared by the commands, so every command words its usage errors alike:
 * `Unknown option "--jsn" for "wrapp doctor" (did you mean "--json"?): see "wrapp doctor --help"`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { didYouMean } from "../core/did_you_mean.ts";
import { UsageError } from "../core/errors.ts";

/** The option specs parseFlags accepts (node:util parseArgs options). */
export type FlagOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/**
 * node:util parseArgs with wrapp's messages: an unknown flag gets a did-you-mean, a missing
 * value says so, too many positionals are named; every error is a UsageError (exit 2).
 */
export function parseFlags<T extends FlagOptions>(
  command: string,
  args: readonly string[],
  options: T,
  maxPositionals: number,
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
    if ((error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const suggestion = didYouMean(flag.replace(/^-+/, ""), Object.keys(options));
      throw new UsageError(
        `Unknown option "${flag}" for "wrapp ${command}"${
          suggestion ? ` (did you mean "--${suggestion}"?)` : ""
        }: see "wrapp ${command} --help"`,
        { cause: error },
      );
    }
    const name = /--[\w-]+/.exec(flag)?.[0] ?? flag;
    if (/argument (missing|is ambiguous)/.test(message)) {
      const hint = /ambiguous/.test(message)
        ? ` (write ${name}=VALUE for a value starting with "-")`
        : "";
      throw new UsageError(`Option "${name}" of "wrapp ${command}" needs a value${hint}`, {
        cause: error,
      });
    }
    throw new UsageError(
      `Invalid option "${name}" for "wrapp ${command}": ${message.replace(/\.$/, "")}`,
      { cause: error },
    );
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).map((p) => `"${p}"`).join(", ");
    throw new UsageError(`Too many arguments for "wrapp ${command}": ${extra}`);
  }
  return parsed;
}

/**
 * Split `wrapp trace|memprof [OPTIONS] [--] COMMAND…`: options come first; the command
 * starts at `--` or at the first argument that is neither an option nor an option's value
 * (so `wrapp trace ls -l` works).
 */
export function splitAtCommand(
  args: readonly string[],
  options: FlagOptions,
): { flags: string[]; command?: string[] } {
  const valued = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== "string") continue;
    valued.add(`--${name}`);
    if (spec.short) valued.add(`-${spec.short}`);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return { flags: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith("-") || arg === "-") {
      return { flags: args.slice(0, i), command: args.slice(i) };
    }
    if (valued.has(arg)) i++; // its value may look like anything
  }
  return { flags: [...args] };
}

/**
 * `--threshold SIGMA` (anomalies of trace and record): a positive number of standard
 * deviations, or `undefined` when absent. Throws {@linkcode UsageError}.
 */
export function parseThresholdFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const sigma = Number(text);
  if (text.trim() === "" || !Number.isFinite(sigma) || sigma <= 0) {
    throw new UsageError(
      `Invalid --threshold "${text}": expected a positive number of standard deviations such as 3.0`,
    );
  }
  return sigma;
}
