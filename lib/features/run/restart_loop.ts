/**
 * The restart loop of a supervision: run the service, then restart it as `[restart]`
 * says (or at once, when a restart was asked for), until it ends for good or is stopped.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import { describeExit, type ExitStatus, shellExitCode } from "../../core/signals.ts";
import type { RestartPolicy } from "./restart_policy.ts";
import type { RunOutcome } from "./service_run.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** What {@linkcode superviseRuns} drives. */
export interface RestartLoopHooks {
  /** When to restart, and after how long. */
  policy: RestartPolicy;
  /** One run of the service, to its end. */
  runOnce: () => Promise<RunOutcome>;
  /** Whether the supervision is being stopped for good. */
  stopping: () => boolean;
  /** Whether a restart was asked for since the last call (and forget it). */
  takeRestartRequest: () => boolean;
  /** Restarts so far. */
  restarts: () => number;
  /** Report the next restart: why, after how long, which attempt, when (ms since the epoch). */
  announceRestart: (reason: string, delayMs: number, attempt: number, restartAt: number) => void;
  /** Wait out a restart delay (a stop or a restart request ends it early). */
  sleep: (ms: number) => Promise<void>;
}

/** Run until the service ends for good; its last exit and the code wrapp ends with. */
export async function superviseRuns(
  context: SupervisionContext,
  hooks: RestartLoopHooks,
): Promise<{ exit: ExitStatus; exitCode: number }> {
  const { streamName } = context.config.app;
  let exit: ExitStatus = { code: 0 };
  let exitCode = 0;
  while (true) {
    if (hooks.stopping()) break; // stopped before it started (a group's SIGTERM during setup)
    const startedAt = now();
    const run = await hooks.runOnce();
    exit = run.exit;
    exitCode = shellExitCode(exit);
    if (run.hung !== undefined && exitCode === 0) exitCode = 1; // a hang is a failure
    if (hooks.stopping()) break;
    const uptimeMs = run.endedAt - startedAt;
    if (hooks.takeRestartRequest()) {
      const reason = `restart requested; ${describeExit(exit)}`;
      hooks.announceRestart(reason, 0, hooks.restarts() + 1, now());
      continue;
    }
    const decision = hooks.policy.decide(exit, uptimeMs, run.endedAt, { hung: run.hung });
    if (decision.action === "exit") {
      context.debug(`not restarting: ${decision.reason}`);
      if (decision.gaveUp) {
        context.status("warning", `${streamName} ${decision.reason}`, {
          run: context.runId,
          restarts: hooks.restarts(),
        });
        await context.notice(`${streamName} ${decision.reason}`);
        if (exitCode === 0) exitCode = 1;
      }
      break;
    }
    // The delay counts from the exit: reading the last output and the crash report
    // take part of it, rather than adding to it.
    const restartAt = run.endedAt + decision.delayMs;
    hooks.announceRestart(decision.reason, decision.delayMs, decision.attempt, restartAt);
    await hooks.sleep(Math.max(0, restartAt - now()));
    if (hooks.stopping()) break;
  }
  return { exit, exitCode };
}
