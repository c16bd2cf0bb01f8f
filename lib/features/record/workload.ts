/**
 * What `wrapp record` records: an application started on a free loopback port with its
 * own temporary data, made ready, driven by a load generator for a while, and stopped.
 * Each built-in workload (`redis`, `nginx`, `postgresql`) and `--custom` describes itself
 * with these types; the recorder does the rest (tracing, output, cleanup).
 *
 * @module
 */

import type { ProgramNeed } from "./app_programs.ts";

/** A command to run: absolute program path first. */
export interface CommandSpec {
  /** Program (absolute path) and arguments. */
  command: string[];
  /** Run it as this user (through `setpriv`, with the user's groups). Default: wrapp's. */
  user?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. Default: the recording's private temporary folder. */
  cwd?: string;
}

/** A step before the measured workload (`initdb`, `pgbench -i`). */
export interface StepSpec extends CommandSpec {
  /** What it does, for the trace and messages: `initdb`, `pgbench -i`. */
  name: string;
}

/** The load generator. */
export interface LoadSpec extends CommandSpec {
  /** Whether it ends by itself after the duration (`wrk -d`, `pgbench -T`). */
  stopsItself: boolean;
  /** The signal that ends it (and makes it print its results, where it does). */
  stopSignal: Deno.Signal;
  /**
   * Whether its output shows that every test it runs finished at least once. Until it
   * does, the load is not stopped at the duration (a loaded machine may need longer for
   * one round). Default: covered at once.
   */
  covered?: (output: string) => boolean;
}

/** The application recorded: traced from its exec on. */
export interface AppSpec extends CommandSpec {
  /** The signal that stops it cleanly: SIGTERM (redis), SIGQUIT (nginx), SIGINT (postgres). */
  stopSignal: Deno.Signal;
  /** Send the stop signal to its whole process group (a command), not its main process only (a server). */
  signalGroup: boolean;
}

/** Everything one recording runs, in order. */
export interface RecordPlan {
  /** The application. */
  app: AppSpec;
  /** Run before the application starts, untraced (`initdb`). */
  setup: StepSpec[];
  /** Resolves once the application answers; rejects with why it does not. Default: ready at once. */
  ready?: () => Promise<void>;
  /** Run once it is ready, traced, before the load (`pgbench -i`). */
  prepare: StepSpec[];
  /** The load generator; none for a command recorded by itself (`--custom`). */
  load?: LoadSpec;
  /** The figures worth keeping from the load generator's output (`tps = 512.3`). */
  results?: (output: string) => string[];
  /** The application's version (`7.0.15`), when it can tell. */
  version?: () => Promise<string | undefined>;
}

/** What a plan is made from. */
export interface PlanContext {
  /** A private temporary folder for the application's config and data (removed afterwards). */
  workDir: string;
  /** A free TCP port on 127.0.0.1. */
  port: number;
  /** How long the load runs, ms. */
  durationMs: number;
  /** The programs found for the workload's needs, by name. */
  programs: Readonly<Record<string, string>>;
}

/** A built-in workload. */
export interface Workload {
  /** Its name on the command line: `redis`. */
  name: string;
  /** One line for `--list`: what it starts and how it loads it. */
  description: string;
  /** The programs it runs, each with its Debian package. */
  needs: readonly ProgramNeed[];
  /** The commands of one recording. */
  plan(context: PlanContext): Promise<RecordPlan>;
}
