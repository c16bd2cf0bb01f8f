/**
 * `wrapp record postgresql`: a new PostgreSQL cluster (`initdb`) in a private folder,
 * started as the `postgres` user (PostgreSQL refuses root) with its unix socket in that
 * folder and TCP on a free loopback port, filled by `pgbench -i` and loaded by
 * `pgbench -T` (TPC-B-like transactions, 4 clients) for the duration.
 *
 * @module
 */

import { join } from "node:path";
import { lookupUser } from "../../core/run_as_user.ts";
import { postgresqlBinDirs } from "./app_programs.ts";
import { programVersion } from "./app_version.ts";
import { commandProbe, waitUntilReady } from "./ready_probe.ts";
import type { PlanContext, RecordPlan, Workload } from "./workload.ts";

const _DIRS = () => postgresqlBinDirs();

/** The built-in `postgresql` workload. */
export const POSTGRESQL_WORKLOAD: Workload = {
  name: "postgresql",
  description: "a new PostgreSQL cluster (initdb, run as postgres) filled by pgbench -i and " +
    "loaded by pgbench -T: TPC-B-like transactions, 4 clients",
  needs: [
    { program: "postgres", package: "postgresql", dirs: _DIRS },
    { program: "initdb", package: "postgresql", dirs: _DIRS },
    { program: "pg_isready", package: "postgresql", dirs: _DIRS },
    { program: "pgbench", package: "postgresql", dirs: _DIRS },
  ],
  async plan(context: PlanContext): Promise<RecordPlan> {
    const user = await postgresqlUser();
    const dir = context.workDir;
    const data = join(dir, "data");
    // The server's user owns its folder: initdb creates the data folder inside it.
    await Deno.chown(dir, user.uid, user.gid);
    const programs = context.programs;
    const port = String(context.port);
    const connect = ["-h", dir, "-p", port, "-U", "postgres"];
    const seconds = String(Math.max(1, Math.round(context.durationMs / 1000)));
    return {
      app: {
        command: [
          programs["postgres"],
          "-D",
          data,
          "-p",
          port,
          "-k",
          dir,
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          "max_connections=20",
        ],
        user: user.name,
        // SIGINT: fast shutdown (clients are disconnected, the server checkpoints and exits).
        stopSignal: "SIGINT",
        signalGroup: false,
      },
      setup: [{
        name: "initdb",
        command: [
          programs["initdb"],
          "-D",
          data,
          "-U",
          "postgres",
          "-A",
          "trust",
          "-E",
          "UTF8",
          "--no-locale",
          "--no-sync",
        ],
        user: user.name,
      }],
      ready: () =>
        waitUntilReady(commandProbe([programs["pg_isready"], "-q", ...connect]), {
          intervalMs: 100,
        }),
      prepare: [{
        name: "pgbench -i",
        command: [programs["pgbench"], "-i", "-s", "1", "-q", ...connect, "postgres"],
      }],
      load: {
        command: [
          programs["pgbench"],
          "-c",
          "4",
          "-j",
          "2",
          "-T",
          seconds,
          "-P",
          "5",
          ...connect,
          "postgres",
        ],
        stopsItself: true,
        stopSignal: "SIGINT",
      },
      results: pgbenchResults,
      version: () => programVersion(programs["postgres"], ["--version"]),
    };
  },
};

/** The account PostgreSQL runs as: `postgres`, else `nobody` (any user but root will do). */
export async function postgresqlUser(): Promise<{ name: string; uid: number; gid: number }> {
  for (const name of ["postgres", "nobody"]) {
    const account = await lookupUser(name);
    if (account && account.uid !== 0) return account;
  }
  throw new Error('no "postgres" or "nobody" user to run PostgreSQL as (it refuses root)');
}

/** pgbench's figures: transactions, failures, latency and rate. */
export function pgbenchResults(output: string): string[] {
  const keep = [
    /^number of transactions actually processed: .*/m,
    /^number of failed transactions: .*/m,
    /^latency average = .*/m,
    /^latency stddev = .*/m,
    /^tps = .*/m,
  ];
  return keep.map((pattern) => pattern.exec(output)?.[0]).filter((line) => line !== undefined);
}
