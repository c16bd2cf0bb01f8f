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

/** What a spawn needs of the runs' setup. */
export type SpawnSetup = Pick<
  RunSetup,
  "userSwitch" | "runUser" | "corePlan" | "watchdog" | "crashWatcher" | "gdbserver" | "limits"
>;

/** A run's child as it was spawned. */
export interface SpawnedRun {
  /** The child: its program, or the hold in front of it. */
  child: RunningChild;
  /** Whether it waits, stopped, just before its exec. */
  hold: boolean;
  /** The service's command line. */
  command: string[];
}

/**
 * Whether the service waits just before its exec. With eBPF views of it, until they are
 * attached (about a second for bpftrace): its first syscalls and pages are seen too, and
 * the crash watcher watches it from its exec. [debug] takes it from there to its first
 * instruction for gdbserver. A cgroup takes it in while it is held, so none of its code
 * runs outside the limits.
 */
function _wantsHold(config: SupervisionContext["config"], setup: SpawnSetup): boolean {
  return ((config.trace !== undefined || config.memprof !== undefined ||
    setup.crashWatcher !== undefined) && Deno.uid() === 0) ||
    setup.gdbserver !== undefined ||
    setup.limits?.method === "cgroup";
}

/**
 * The first start, spawned before the sinks open, when it is held anyway: its session,
 * user switch and hold take ~10 ms of execs (setsid, setpriv, sh), which then run beside
 * the sinks' opening instead of after it. Undefined when it would not be held (a program
 * must not run before its sinks are there), when wrapp is traced, or when the spawn
 * failed: the run's own spawn then tries again and reports the failure to the sinks.
 * Release an unused one with {@linkcode discardSpawned}.
 */
export function spawnHeldEarly(
  context: SupervisionContext,
  setup: SpawnSetup,
): SpawnedRun | undefined {
  if (!_wantsHold(context.config, setup) || tracerPid() !== 0) return undefined;
  try {
    return spawnRun(context, setup);
  } catch {
    return undefined;
  }
}

/** End a spawned child that never ran (it is still held): kill its group, reap it, close its pipes. */
export async function discardSpawned(spawned: SpawnedRun): Promise<void> {
  const { child } = spawned;
  child.signalGroup("SIGKILL");
  await Promise.all([child.status, child.stdout.cancel(), child.stderr.cancel()]);
}

/**
 * Spawn the service; `hold`: it waits, stopped, just before its exec. A spawn that
 * fails is reported as an exit status, then thrown.
 */
export function spawnRun(context: SupervisionContext, setup: SpawnSetup): SpawnedRun {
  const { config, debug, runId } = context;
  const { app } = config;
  const { watchdog } = setup;
  const command = [app.resolvedExecutable, ...app.args];
  debug(`command: ${JSON.stringify(command)} in ${app.cwd} as ${setup.runUser}`);
  const wantsHold = _wantsHold(config, setup);
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
