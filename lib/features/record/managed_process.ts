/**
 * The processes `wrapp record` starts (the application, its setup steps, the load
 * generator), each in its own session and process group: a terminal's Ctrl-C reaches only
 * wrapp, which stops them in order, and `kill(-pgid)` reaches every process one of them
 * started, so nothing is left behind.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import { describeCause, SpawnError } from "../../core/errors.ts";
import { planUserSwitch } from "../../core/run_as_user.ts";
import type { ExitStatus } from "../../core/signals.ts";
import { spawnStopped, type StoppedChild } from "../../pipeline/sources/spawn_stopped.ts";
import type { OutputLog } from "./output_log.ts";
import type { CommandSpec } from "./workload.ts";

/** A started process and its process group. */
export class ManagedProcess {
  /** What it is, for messages: `redis-server`, `initdb`. */
  readonly name: string;
  /** Its pid, also its process group id. */
  readonly pid: number;
  /** Resolves when it exits. */
  readonly status: Promise<ExitStatus>;
  #exit: { status: ExitStatus; time: number } | undefined;

  /** Manage a process that leads its own process group. */
  constructor(name: string, pid: number, status: Promise<ExitStatus>) {
    this.name = name;
    this.pid = pid;
    this.status = status.then((s) => {
      this.#exit = { status: s, time: now() };
      return s;
    });
  }

  /** How and when it exited, once it has. */
  exited(): { status: ExitStatus; time: number } | undefined {
    return this.#exit;
  }

  /** Send `signal` to the process, or to its whole group; false when nothing received it. */
  signal(signal: Deno.Signal, group = false): boolean {
    if (!group && this.#exit) return false;
    try {
      Deno.kill(group ? -this.pid : this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stop it: `signal` (to the group with `group`), then SIGKILL to the whole group after
   * `graceMs`. Resolves with its exit status.
   */
  async stop(signal: Deno.Signal, options: { graceMs: number; group?: boolean }): Promise<
    ExitStatus
  > {
    if (!this.#exit) this.signal(signal, options.group ?? false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.status.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), options.graceMs)),
    ]);
    clearTimeout(timer);
    if (!exited) this.killGroup();
    return await this.status;
  }

  /** SIGKILL every process left in its group (children it started included). */
  killGroup(): void {
    try {
      Deno.kill(-this.pid, "SIGKILL");
    } catch {
      // The group is empty.
    }
  }
}

/** The `setpriv` prefix and environment for running as `user` (none for wrapp's own user). */
export async function userSwitchPrefix(
  user: string | undefined,
): Promise<{ prefix: string[]; env: Record<string, string> }> {
  if (user === undefined) return { prefix: [], env: {} };
  const plan = await planUserSwitch({ user });
  return plan ? { prefix: plan.prefix, env: plan.env } : { prefix: [], env: {} };
}

/**
 * Start `spec` in its own session, its stdout and stderr going to `log`. Throws a
 * {@linkcode SpawnError} when it cannot start.
 */
export async function startProcess(
  name: string,
  spec: CommandSpec,
  options: { log?: OutputLog; cwd?: string } = {},
): Promise<ManagedProcess> {
  const { prefix, env } = await userSwitchPrefix(spec.user);
  const [program, ...args] = [...prefix, ...spec.command];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: spec.cwd ?? options.cwd,
      env: { ...env, ...spec.env },
      stdin: "null",
      stdout: options.log ? "piped" : "null",
      stderr: options.log ? "piped" : "null",
      detached: true,
    }).spawn();
  } catch (error) {
    throw new SpawnError(`Cannot start ${name} ("${spec.command[0]}"): ${describeCause(error)}`, {
      cause: error,
    });
  }
  if (options.log) {
    options.log.pump(child.stdout);
    options.log.pump(child.stderr);
  }
  return new ManagedProcess(
    name,
    child.pid,
    child.status.then((s) => s.signal ? { signal: s.signal } : { code: s.code }),
  );
}

/** Manage a child from {@linkcode spawnStopped} (started with `detached`). */
export function manageStopped(name: string, child: StoppedChild): ManagedProcess {
  return new ManagedProcess(name, child.pid, child.status);
}

/**
 * Start `spec` held before its exec (see {@linkcode spawnStopped}), leading its own
 * process group, its output into `log`; `child.resume()` lets it run.
 */
export async function startHeld(
  name: string,
  spec: CommandSpec,
  options: { log: OutputLog; cwd: string },
): Promise<{ process: ManagedProcess; child: StoppedChild }> {
  const { prefix, env } = await userSwitchPrefix(spec.user);
  const command = [...prefix, ...spec.command];
  const child = await spawnStopped(command[0], command.slice(1), {
    detached: true,
    output: "piped",
    cwd: spec.cwd ?? options.cwd,
    env: { ...env, ...spec.env },
  });
  options.log.pump(child.stdout);
  options.log.pump(child.stderr);
  return { process: manageStopped(name, child), child };
}
