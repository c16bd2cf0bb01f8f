/**
 * One line of `wrapp ps`: a service as its wrapp (or its state hash in Redis) and /proc
 * describe it, and the same line as `--json` prints it.
 *
 * @module
 */

import type { LastExit } from "../service_snapshot.ts";

/** A service as `wrapp ps` shows it; a field it could not learn is absent. */
export interface PsRow {
  /** Its stream name; absent for a wrapp that did not answer. */
  name?: string;
  /** The host it runs on (from the state hash; `--redis` only). */
  host?: string;
  /** The pid of the wrapp that supervises it. */
  wrappPid?: number;
  /** The pid of its main process, while it runs. */
  pid?: number;
  /**
   * `starting`, `running`, `stopping`, `restarting`, `exited`; `no answer` for a wrapp
   * that did not answer in time; with `--redis`, `stale` for a `running` service whose
   * heartbeat is older than {@linkcode STALE_AFTER_MS}.
   */
  state: string;
  /** The supervisor's status text, when it has one. */
  status?: string;
  /** When the current run started, ms since the epoch. */
  startedAt?: number;
  /** How many times it was restarted. */
  restarts?: number;
  /** How its latest run ended. */
  lastExit?: LastExit;
  /** Lines printed since its wrapp started. */
  lines?: number;
  /** Lines per second over the sampling window. */
  linesPerSecond?: number;
  /** CPU use of its process tree over the sampling window, percent of one core. */
  cpuPercent?: number;
  /** Resident memory of its process tree, bytes. */
  rssBytes?: number;
  /** Its config file. */
  config?: string;
  /** The last heartbeat in its state hash, ms since the epoch (`--redis` only). */
  heartbeat?: number;
  /** Why the row lacks what it lacks (`no answer within 1000 ms`), with the wrapp's command line. */
  problem?: string;
}

/**
 * A `running` service whose state hash has had no heartbeat for this long (three times
 * the default `health_interval` of 60 s) is shown as `stale`: its wrapp or host is
 * likely gone.
 */
export const STALE_AFTER_MS = 180_000;

/** The `--json` form of a row: snake_case keys, `null` for what is unknown, `uptime_ms` at `now`. */
export function rowJson(row: PsRow, now: number): Record<string, unknown> {
  const exit = row.lastExit;
  return {
    name: row.name ?? null,
    ...(row.host !== undefined ? { host: row.host } : {}),
    wrapp_pid: row.wrappPid ?? null,
    pid: row.pid ?? null,
    state: row.state,
    ...(row.status !== undefined ? { status: row.status } : {}),
    started_at: row.startedAt ?? null,
    uptime_ms: row.startedAt !== undefined && row.pid !== undefined
      ? Math.max(0, now - row.startedAt)
      : null,
    restarts: row.restarts ?? null,
    last_exit: exit
      ? {
        ...(exit.signal !== undefined ? { signal: exit.signal } : { code: exit.code ?? null }),
        at: exit.at,
      }
      : null,
    lines: row.lines ?? null,
    lines_per_s: _round(row.linesPerSecond, 2),
    cpu_percent: _round(row.cpuPercent, 1),
    rss_bytes: row.rssBytes ?? null,
    config: row.config ?? null,
    ...(row.heartbeat !== undefined ? { heartbeat: row.heartbeat } : {}),
    ...(row.problem !== undefined ? { problem: row.problem } : {}),
  };
}

function _round(value: number | undefined, digits: number): number | null {
  if (value === undefined) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
