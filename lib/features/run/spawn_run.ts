/**
 * The start of one run: the service spawned in its own process group, behind the
 * prefixes that set its core limit, its user and its notify socket, and held before its
 * exec when something must be attached first.
 *
 * @module
 */

import { type RunningChild, spawnChild } from "../../pipeline/sources/child_process.ts";
import { HOLD_BEFORE_EXEC } from "../../pipeline/sources/spawn_stopped.ts";
import { tracerPid } from "../../core/tracer_pid.ts";
import type { RunSetup } from "./run_setup.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/**
 * Spawn the service; `hold`: it waits, stopped, just before its exec. A spawn that
 * fails is reported as an exit status, then thrown.
 */
export function spawnRun(
  context: SupervisionContext,
  setup: RunSetup,
): { child: RunningChild; hold: boolean; command: string[] } {
  const { config, debug, runId } = context;
  const { app } = config;
  const { watchdog } = setup;
  const command = [app.resolvedExecutable, ...app.args];
  debug(`command: ${JSON.stringify(command)} in ${app.cwd} as ${setup.runUser}`);
  // With eBPF views of the service, it waits just before its exec until they are
  // attached (about a second for bpftrace): its first syscalls and pages are seen too,
  // and the crash watcher watches it from its exec. [debug] takes it from there to
  // its first instruction for gdbserver.
  // A cgroup takes it in while it is held, so none of its code runs outside the limits.
  const wantsHold = ((config.trace !== undefined || config.memprof !== undefined ||
    setup.crashWatcher !== undefined) && Deno.uid() === 0) ||
    setup.gdbserver !== undefined ||
    setup.limits?.method === "cgroup";
  // Under `strace -f` the held shell's stop looks like any syscall stop (see tracer_pid.ts),
  // and resuming it before it stopped would leave it stopped for good: the service starts
  // at once, watched and limited from just after its spawn. gdbserver cannot attach to a
  // traced process anyway.
  const tracer = wantsHold ? tracerPid() : 0;
  if (tracer !== 0) {
    void context.notice(
      `wrapp is traced by pid ${tracer}: ${app.streamName} starts without being held before its exec, so its first instructions run before the crash watcher, [trace], [memprof] or a cgroup take it${
        setup.gdbserver === undefined ? "" : ", and [debug] cannot hold it for gdbserver"
      }`,
    );
  }
  const hold = wantsHold && tracer === 0;
  try {
    const child = spawnChild({
      executable: app.resolvedExecutable,
      args: app.args,
      cwd: app.cwd,
      env: { ...app.env, ...setup.userSwitch?.env, ...watchdog?.env() },
      clearEnv: !app.inheritEnv,
      // prlimit outermost: it keeps the pid and execs setpriv, which execs the service.
      prefix: [
        ...setup.corePlan?.prefix ?? [],
        ...setup.userSwitch?.prefix ?? [],
        ...watchdog?.prefix() ?? [],
        ...(hold ? HOLD_BEFORE_EXEC : []),
      ],
    });
    return { child, hold, command };
  } catch (error) {
    context.status(
      "exit",
      `could not start ${app.streamName}: ${(error as Error).message}`,
      {
        run: runId,
      },
    );
    throw error;
  }
}
