/**
 * gdbserver as a child of wrapp: started in its own session and dying with wrapp, its
 * stderr read line by line, what it said went wrong put in words; and the small waits
 * around it.
 *
 * @module
 */

import { SidecarError } from "../../core/errors.ts";
import { findProgram } from "../../core/find_executable.ts";
import { processState } from "../../pipeline/sources/spawn_stopped.ts";

/** Start gdbserver in its own session (a terminal's Ctrl-C is wrapp's to forward), dying with wrapp. */
export async function spawnGdbserver(
  gdbserver: string,
  args: string[],
  stdio: { stdin: "piped" | "null"; stdout?: "piped" },
): Promise<Deno.ChildProcess> {
  const setpriv = await findProgram("setpriv");
  const [program, ...rest] = setpriv
    ? [setpriv, "--pdeathsig", "KILL", gdbserver, ...args]
    : [gdbserver, ...args];
  try {
    return new Deno.Command(program, {
      args: rest,
      stdin: stdio.stdin,
      stdout: stdio.stdout ?? "null",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (error) {
    throw new SidecarError(`Cannot start gdbserver "${gdbserver}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Call `onLine` with each line of `stream` (the last one even without a newline). */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") onLine(line.trim());
    }
  } catch {
    // The stream was cancelled or broke: what came is what there is.
  }
  if (rest.trim() !== "") onLine(rest.trim());
}

/** What gdbserver said went wrong, with a hint for a refused attach. */
export function explainGdbserver(said: readonly string[], pid: number): string {
  const problem = said.find((line) => /^(Cannot|Can't|Couldn't|Error|error)/.test(line)) ??
    said.at(-1) ?? "it exited without a word";
  const hint = /Operation not permitted/.test(problem)
    ? ` (attaching to pid ${pid} needs root, or kernel.yama.ptrace_scope = 0)`
    : "";
  return `${problem.replace(/\.$/, "")}${hint}`;
}

/** Resolve to the first of `promises`, or `"timeout"` after `timeoutMs`. */
export async function raceTimeout<T>(
  promises: Promise<T>[],
  timeoutMs: number,
): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      ...promises,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL `child`, if it still runs. */
export function killProcess(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Whether `pid` is gone (or a zombie). */
export async function isGone(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state === undefined || state === "Z";
}

/** Whole ms since `start` (a `performance.now()`). */
export function msSince(start: number): number {
  return Math.round(performance.now() - start);
}
