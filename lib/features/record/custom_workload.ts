/**
 * `wrapp record --custom "COMMAND ARGS"`: any command, traced from its exec on, without a
 * load generator: it runs until it exits or the duration passes, then its process group
 * gets SIGTERM.
 *
 * @module
 */

import { basename } from "node:path";
import { SpawnError } from "../../core/errors.ts";
import { findExecutable } from "../../core/find_executable.ts";
import type { RecordPlan } from "./workload.ts";

/** A recording's name from a command: its program's base name, made safe for a folder name. */
export function customAppName(program: string): string {
  const name = basename(program).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "");
  return name === "" ? "custom" : name.slice(0, 64);
}

/**
 * The plan for `words` (from {@linkcode splitShellWords}). Throws a {@linkcode SpawnError}
 * (exit 127) when the program does not exist.
 */
export async function customPlan(words: readonly string[]): Promise<RecordPlan> {
  const executable = await findExecutable(words[0]);
  if (executable === undefined) {
    throw new SpawnError(
      words[0].includes("/")
        ? `Cannot record "${words[0]}": no executable file there`
        : `Cannot record "${words[0]}": not found in PATH`,
    );
  }
  return {
    app: { command: [executable, ...words.slice(1)], stopSignal: "SIGTERM", signalGroup: true },
    setup: [],
    prepare: [],
  };
}
