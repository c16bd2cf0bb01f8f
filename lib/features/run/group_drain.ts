/**
 * The end of a run's process group: what the main process started may outlive it, hold
 * its output pipes, or ignore SIGTERM. A supervisor leaves nothing behind (systemd's
 * KillMode=control-group).
 *
 * @module
 */

import type { RunningChild } from "../../pipeline/sources/child_process.ts";
import { processGroupMembers } from "./process_group.ts";
import { delay, startTimer, type Timer } from "../../core/timers.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/**
 * A stop is under way and the main process has exited: the processes it started are
 * still in its group and may ignore SIGTERM. Wait for them until `deadline`
 * (`performance.now()` time), then `kill` the group, so none survives a stop or a restart.
 */
export async function reapGroup(
  child: RunningChild,
  options: { deadline: number; kill: () => void; debug: (message: string) => void },
): Promise<void> {
  let members = await processGroupMembers(child.pid);
  while (members.length > 0 && performance.now() < options.deadline) {
    await delay(50);
    members = await processGroupMembers(child.pid);
  }
  if (members.length === 0) return;
  options.debug(`pid ${child.pid} exited; ${members.length} of its group left: ${members}`);
  options.kill();
  // SIGKILL takes effect at once, except for a process stuck in the kernel: do not wait forever.
  const until = performance.now() + 5000;
  while (members.length > 0 && performance.now() < until) {
    await delay(50);
    members = await processGroupMembers(child.pid);
  }
  if (members.length > 0) options.debug(`process group ${child.pid} still has ${members}`);
}

/** Options for {@linkcode drainGroup}. */
export interface DrainGroupOptions {
  /** How long to keep reading after the main process exited, ms. */
  drainMs: number;
  /** Called before the group is sent a signal (gdbserver goes first, or it holds the service). */
  beforeSignal: (signal: Deno.Signal) => void;
}

/**
 * The main process has exited. Read what the rest of its process group still writes
 * for up to `drainMs`; then end whatever of the group still runs — SIGTERM, SIGKILL
 * after `stop_grace` — reading until it is gone. Output of a process that left the
 * group (setsid) is no longer read after that.
 */
export async function drainGroup(
  context: SupervisionContext,
  child: RunningChild,
  reading: { pumps: Promise<unknown>; stop: AbortController },
  options: DrainGroupOptions,
): Promise<void> {
  const { pumps } = reading;
  const until = (ms: number) => {
    let timer: Timer | undefined;
    return Promise.race([
      pumps.then(() => true),
      new Promise<false>((resolve) => timer = startTimer(() => resolve(false), ms)),
    ]).finally(() => timer?.clear());
  };
  const { drainMs } = options;
  const deadline = performance.now() + drainMs;
  let pipesClosed = await until(drainMs);
  let members = await processGroupMembers(child.pid);
  // The pipes closed, but some of the group may still be ending on its own.
  while (members.length > 0 && performance.now() < deadline) {
    await delay(100);
    members = await processGroupMembers(child.pid);
  }
  if (members.length > 0) {
    await _endGroup(context, child, members, options);
    // What they wrote before they died is still in the pipes.
    pipesClosed = await until(200);
  }
  if (!pipesClosed) {
    context.debug(`pid ${child.pid}: a process outside its group holds its output; stop reading`);
    reading.stop.abort();
    await pumps;
  }
}

/** SIGTERM what is left of the group, SIGKILL after `stop_grace`, and say so. */
async function _endGroup(
  context: SupervisionContext,
  child: RunningChild,
  left: number[],
  options: DrainGroupOptions,
): Promise<void> {
  const { streamName, stopGraceMs } = context.config.app;
  let members = left;
  const fields = {
    run: context.runId,
    pid: child.pid,
    pids: members.join(" "),
    drain_ms: options.drainMs,
  };
  const what = `${streamName} (pid ${child.pid}) exited, but ${members.length} process${
    members.length === 1 ? "" : "es"
  } of its group (${members.join(", ")}) still ran ${options.drainMs} ms later`;
  options.beforeSignal("SIGTERM");
  child.signalGroup("SIGTERM");
  const graceEnd = performance.now() + stopGraceMs;
  while (members.length > 0 && performance.now() < graceEnd) {
    await delay(50);
    members = await processGroupMembers(child.pid);
  }
  if (members.length === 0) {
    context.status("warning", `${what}: sent SIGTERM to the group`, {
      ...fields,
      signal: "SIGTERM",
    });
    return;
  }
  child.signalGroup("SIGKILL");
  context.status(
    "warning",
    `${what}: sent SIGTERM to the group, then SIGKILL after ${stopGraceMs} ms`,
    { ...fields, signal: "SIGKILL", grace_ms: stopGraceMs },
  );
  const killEnd = performance.now() + 5000;
  while (members.length > 0 && performance.now() < killEnd) {
    await delay(50);
    members = await processGroupMembers(child.pid);
  }
}
