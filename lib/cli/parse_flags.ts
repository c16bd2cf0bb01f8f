/**
 * Flag parsing shared by the commands, so every command words its usage errors alike:
 * `Unknown option "--jsn" for "wrapp doctor" (did you mean "--json"?): see "wrapp doctor --help"`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { didYouMean } from "../config/did_you_mean.ts";
import { UsageError } from "../errors.ts";

/** The option specs parseFlags accepts (node:util parseArgs options). */
export type FlagOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string }
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
    throw new UsageError(
      message.includes("argument missing")
        ? `Option "${name}" of "wrapp ${command}" needs a value`
        : `Invalid option "${name}" for "wrapp ${command}": ${message.replace(/\.$/, "")}`,
      { cause: error },
    );
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).map((p) => `"${p}"`).join(", ");
    throw new UsageError(`Too many arguments for "wrapp ${command}": ${extra}`);
  }
  return parsed;
}
