/**
 * `wrapp ps`: every supervised service at a glance, like `pm2 ls`. Locally it asks each
 * wrapp's status socket and reads /proc; with `--redis` it reads the state hashes of a
 * whole fleet.
 *
 * @module
 */

import type { DebugLog } from "../core/debug.ts";
import { UsageError } from "../core/errors.ts";
import type { RedisEndpoint } from "../core/config/redis_url.ts";
import { redisUrlFlag } from "../core/config/redis_url_flag.ts";
import { ROOT_RUNTIME_DIR } from "../features/run/runtime_dir.ts";
import { type PsRow, rowJson } from "../features/run/ps/ps_row.ts";
import { formatPsTable } from "../features/run/ps/ps_table.ts";
import {
  findStatusSockets,
  localServices,
  psRuntimeDirs,
} from "../features/run/ps/local_services.ts";
import { parseDurationFlag } from "../core/parse_duration.ts";
import { parseFlags } from "./parse_flags.ts";

/** `wrapp ps --help`. */
export const PS_HELP = `Usage: wrapp ps [--json] [--sample D] [--timeout D] [--runtime-dir DIR]
       wrapp ps --redis URL [--db N] [--json]
       wrapp ps --sentinel HOST:PORT[,…] --master-name NAME [--db N] [--json]

List every service supervised on this machine, by "wrapp run svc.toml" (one wrapp
each) or by "wrapp up DIR" / "wrapp run a.toml b.toml" (many services in one wrapp):

  NAME       the service's stream_name
  WRAPP      the pid of the wrapp supervising it (services of one "wrapp up" share it)
  PID        the pid of its main process, while it runs
  STATE      starting, running, stopping (stop signal sent), restarting (waiting out its
             restart delay), exited (ended for good; its wrapp still runs others);
             "no answer" for a wrapp that did not answer within --timeout
  UPTIME     since the current run started
  RESTARTS   how many times its wrapp restarted it
  LAST EXIT  how its latest run ended, and when: "exit 1 3m ago", "SIGSEGV 12s ago"
  LINES/S    lines it printed per second (stdout and stderr) during the sampling window
  CPU        CPU time of its whole process tree during the sampling window, in percent
             of one core (200% = two cores busy), as top shows it
  RSS        resident memory of its whole process tree now (shared pages are counted in
             each process, as ps and pm2 count them)
  STATUS     the supervisor's status text, shown when one has it

A wrapp that does not answer is named under the table with its command line.

Each wrapp listens on a unix socket in its runtime folder: /run/wrapp for root, else
$XDG_RUNTIME_DIR/wrapp (or /run/user/<uid>/wrapp, or /tmp/wrapp-<uid>), one socket per
wrapp named after its pid, owner-only. "wrapp ps" asks each one twice, --sample apart,
and reads /proc itself; the wrapps spend nothing on it while nobody asks. Run as root,
it sees every user's wrapps. Sockets left by killed wrapps are removed.

With --redis (or --sentinel) it reads instead the state hashes every wrapp with a [redis] sink keeps in
DB 5 (wrapp:<name>:state): the services of every robot writing to that Redis, with
their HOST and SEEN (the last heartbeat, written every [redis] health_interval). A
service whose heartbeat is older than 3 minutes is shown as "stale". LINES/S, CPU and
RSS are not in Redis.

Options:
      --json             print an array of services as JSON (snake_case keys, null for
                         what is not known: uptime_ms, lines_per_s, cpu_percent,
                         rss_bytes…)
      --sample DURATION  sampling window for LINES/S and CPU (default 1s; 0 for one
                         look, without them)
      --timeout DURATION how long each wrapp may take to answer (default 1s)
      --runtime-dir DIR  look only at the sockets in DIR (also $WRAPP_RUNTIME_DIR,
                         which wrapp run and wrapp up use to place theirs)
      --redis URL        read the state hashes of this Redis:
                         redis://[user:password@]host:port or rediss:// (the password
                         also from $WRAPP_REDIS_PASSWORD)
      --sentinel HOST:PORT  read them from the master these Redis Sentinels name (port
                         26379 when left out); repeat or use commas; needs --master-name
      --master-name NAME the master's name at the Sentinels (sentinel monitor NAME …)
      --db N             the database of the state hashes ([redis] db_state; default 5)
  -h, --help             show this help

Examples:
  wrapp ps
  sudo wrapp ps --json | jq '.[] | select(.state != "running") | .name'
  wrapp ps --redis redis://10.0.0.2:6379
  wrapp ps --sentinel 10.0.0.2:26379,10.0.0.3:26379 --master-name mymaster`;

/** Run `wrapp ps ARGS…`; resolves to the exit code. */
export async function psCommand(
  args: readonly string[],
  context: { print: (text: string) => void; debug: DebugLog },
): Promise<number> {
  const options = {
    json: { type: "boolean" },
    sample: { type: "string" },
    timeout: { type: "string" },
    "runtime-dir": { type: "string" },
    redis: { type: "string" },
    sentinel: { type: "string", multiple: true },
    "master-name": { type: "string" },
    db: { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  const { values } = parseFlags("ps", args, options, 0);
  if (values.help) {
    context.print(PS_HELP);
    return 0;
  }
  const env = (name: string) => Deno.env.get(name);
  const json = values.json === true;
  if (values.redis !== undefined || values.sentinel !== undefined) {
    const db = values.db === undefined ? 5 : _db(values.db);
    const endpoint = await _fleetEndpoint(values, env);
    // Loaded only with --redis: the Redis client is most of a wrapp's memory.
    const { readFleetRows } = await import("../features/run/ps/redis_states.ts");
    const rows = await readFleetRows(endpoint, db);
    _print(rows, { json, fleet: true, print: context.print });
    if (!json && rows.length === 0) {
      context.print(`No service state in Redis DB ${db} (no wrapp:<name>:state hash)`);
    }
    return 0;
  }
  if (values.db !== undefined || values["master-name"] !== undefined) {
    const option = values.db !== undefined ? "--db" : "--master-name";
    throw new UsageError(`Option "${option}" of "wrapp ps" needs --redis or --sentinel`);
  }
  const sampleMs = (parseDurationFlag("--sample", values.sample, 0) ?? 1e9) / 1e6;
  const timeoutMs = (parseDurationFlag("--timeout", values.timeout, 1e6) ?? 1e9) / 1e6;
  const explicit = values["runtime-dir"] ?? env("WRAPP_RUNTIME_DIR");
  const uid = Deno.uid();
  const dirs = await psRuntimeDirs({ explicit, uid, env });
  context.debug(`ps: looking in ${dirs.join(", ")}`);
  const rows = await localServices({ dirs, timeoutMs, sampleMs });
  _print(rows, { json, fleet: false, print: context.print });
  if (json) return 0;
  if (rows.length === 0) context.print(`No wrapp is running (looked in ${dirs.join(", ")})`);
  for (const row of rows) if (row.problem) context.print(`${row.problem}`);
  if (uid !== 0 && explicit === undefined) {
    // Root's sockets are owner-only: say they are there rather than hide them.
    const hidden = (await findStatusSockets([ROOT_RUNTIME_DIR])).length;
    if (hidden > 0) {
      context.print(
        `${hidden} wrapp${
          hidden === 1 ? "" : "s"
        } of root in ${ROOT_RUNTIME_DIR} not shown: run "sudo wrapp ps"`,
      );
    }
  }
  return 0;
}

function _print(
  rows: readonly PsRow[],
  options: { json: boolean; fleet: boolean; print: (text: string) => void },
): void {
  const now = Date.now();
  if (options.json) {
    options.print(JSON.stringify(rows.map((row) => rowJson(row, now)), null, 2));
    return;
  }
  if (rows.length === 0) return;
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  options.print(formatPsTable(rows, { now, fleet: options.fleet, color }));
}

/** The Redis of `--redis URL`, or the master `--sentinel … --master-name NAME` names. */
async function _fleetEndpoint(
  values: { redis?: string; sentinel?: string[]; "master-name"?: string },
  env: (name: string) => string | undefined,
): Promise<RedisEndpoint> {
  if (values.sentinel !== undefined) {
    if (values.redis !== undefined) {
      throw new UsageError(
        "--redis and --sentinel both name the Redis server: keep one (the Sentinels name the master)",
      );
    }
    const { redisEndpointFromFlags } = await import("../pipeline/sinks/redis_from_flags.ts");
    return await redisEndpointFromFlags(
      { sentinel: values.sentinel, "master-name": values["master-name"] },
      { env },
    );
  }
  return redisUrlFlag(values.redis!, env);
}

function _db(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 15) {
    throw new UsageError(`--db must be an integer between 0 and 15, got "${text}"`);
  }
  return value;
}
