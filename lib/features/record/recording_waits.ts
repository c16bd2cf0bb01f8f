/**
 * The waits of a recording: a step run to its end, or the application, the load or a
 * deadline — each cut short by a stop signal or the tracer failing — and the errors that
 * say how a step or the application ended, with the last lines of its output.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import { WrappError } from "../../core/errors.ts";
import type { SidecarError } from "../../core/errors.ts";
import { type LongTimer, setLongTimeout } from "../../core/long_timeout.ts";
import { describeExit, type ExitStatus } from "../../core/signals.ts";
import type { SyscallSession } from "../../pipeline/syscalls/syscall_session.ts";
import { type ManagedProcess, startProcess } from "./managed_process.ts";
import type { OutputLog } from "./output_log.ts";
import type { RecordingStop } from "./recording_stop.ts";
import { shellQuote } from "./shell_words.ts";
import type { StepSpec } from "./workload.ts";

/** How a wait ended, besides the work it waited for. */
export type Outcome =
  | { kind: "duration" }
  | { kind: "signal"; signal: Deno.Signal }
  | { kind: "app exit"; status: ExitStatus }
  | { kind: "tracer"; error: SidecarError };

/** What {@linkcode RecordingWaits} needs of the recording. */
export interface RecordingWaitsOptions {
  stop: RecordingStop;
  /** The tracer, once it runs. */
  tracer: () => SyscallSession | undefined;
  /** Every process started goes here (the recording kills what is left at the end). */
  started: ManagedProcess[];
  debug: DebugLog;
}

/** Waits cut short by a stop signal or the tracer failing. */
export class RecordingWaits {
  readonly #options: RecordingWaitsOptions;

  /** Waits for one recording. */
  constructor(options: RecordingWaitsOptions) {
    this.#options = options;
  }

  /** Run a step to its end, or until a stop signal (or the application's exit, when given). */
  async step(
    step: StepSpec,
    log: OutputLog,
    workDir: string,
    app?: ManagedProcess,
  ): Promise<Outcome | { kind: "step exit"; status: ExitStatus }> {
    log.note(`$ ${shellQuote(step.command)}\n`);
    this.#options.debug(`${step.name}: ${shellQuote(step.command)}`);
    const process = await startProcess(step.name, step, { log, cwd: workDir });
    this.#options.started.push(process);
    const never = new Promise<never>(() => {});
    const [signal, tracer] = this.#interruptions();
    const outcome = await Promise.race([
      process.status.then((status) => ({ kind: "step exit" as const, status })),
      signal,
      app ? app.status.then((status): Outcome => ({ kind: "app exit", status })) : never,
      tracer,
    ]);
    if (outcome.kind !== "step exit") {
      await process.stop("SIGTERM", { graceMs: this.#options.stop.grace(2000), group: true });
    }
    return outcome;
  }

  /** Wait for the first of: `work`, the application's exit, a signal, the tracer failing, `limitMs`. */
  async race<T>(
    app: ManagedProcess,
    work: Promise<T> | undefined,
    limitMs?: number,
  ): Promise<Outcome | T> {
    let timer: LongTimer | undefined;
    const never = new Promise<never>(() => {});
    try {
      return await Promise.race([
        work ?? never,
        app.status.then((status): Outcome => ({ kind: "app exit", status })),
        ...this.#interruptions(),
        limitMs === undefined ? never : new Promise<Outcome>((resolve) => {
          timer = setLongTimeout(() => resolve({ kind: "duration" }), limitMs);
        }),
      ]);
    } finally {
      timer?.clear();
    }
  }

  /** What cuts any wait short: a stop signal, the tracer failing. */
  #interruptions(): [Promise<Outcome>, Promise<Outcome>] {
    const tracer = this.#options.tracer();
    return [
      this.#options.stop.requested.then((signal): Outcome => ({ kind: "signal", signal })),
      tracer
        ? tracer.failed.then((error): Outcome => ({ kind: "tracer", error }))
        : new Promise<never>(() => {}),
    ];
  }
}

/** Resolves with a `duration` outcome once `done()` holds (checked every 50 ms), unless aborted. */
export function until(done: () => boolean, signal: AbortSignal): Promise<{ kind: "duration" }> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!done()) return;
      clearInterval(timer);
      resolve({ kind: "duration" });
    }, 50);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
}

/** Whether a process ended with exit code 0. */
export function succeeded(status: ExitStatus | undefined): boolean {
  return status !== undefined && status.code === 0;
}

/** `; last output in "LOG":` and its last lines, or nothing. */
export function lastOutput(log: OutputLog): string {
  const tail = log.tail(5);
  return tail ? `; last output in "${log.path}":\n${tail}` : "";
}

/** A step ended badly. */
export function stepFailed(step: StepSpec, status: ExitStatus, log: OutputLog): WrappError {
  return new WrappError(`${step.name} failed (${describeExit(status)})${lastOutput(log)}`);
}

/** The application ended during the recording. */
export function appDied(name: string, status: ExitStatus, log: OutputLog): WrappError {
  return new WrappError(
    `${name} exited during the recording (${describeExit(status)})${lastOutput(log)}`,
  );
}
