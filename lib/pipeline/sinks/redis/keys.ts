/**
 * Where the Redis sink writes: the databases by role and the keys of one service, in the
 * layout of the original Go wrapp (see ../redis.ts).
 *
 * @module
 */

/** The three databases the sink writes, by role. */
export interface RedisDbs {
  /** Streams: logs, status, crash, trace. Default 1. */
  logs: number;
  /** Marker counters and values. Default 2. */
  values: number;
  /** The state hash (and the control stream). Default 5. */
  state: number;
}

/** Which database a command goes to. */
export type RedisDbRole = keyof RedisDbs;

/** The layout of the original wrapp. */
export const DEFAULT_REDIS_DBS: Readonly<RedisDbs> = { logs: 1, values: 2, state: 5 };

/** Every key of one service `name`. */
export interface RedisKeys {
  /** Stream of stdout lines (DB logs). */
  info: string;
  /** Stream of stderr lines (DB logs). */
  error: string;
  /** Stream of status entries (DB logs). */
  status: string;
  /** Stream of crash reports (DB logs). */
  crash: string;
  /** Stream of syscall anomalies, summaries and memprof snapshots (DB logs). */
  trace: string;
  /** Hash with pid, run, status, version, host, heartbeat (DB state). */
  state: string;
  /** Stream of commands to the supervisor (DB state). */
  control: string;
  /** String holding marker `key` (DB values). */
  value(key: string): string;
}

/** The keys of service `name`: `logs:app:<name>:info`, `wrapp:<name>:state`, … */
export function redisKeys(name: string): RedisKeys {
  return {
    info: `logs:app:${name}:info`,
    error: `logs:app:${name}:error`,
    status: `logs:app:${name}:status`,
    crash: `logs:app:${name}:crash`,
    trace: `logs:app:${name}:trace`,
    state: `wrapp:${name}:state`,
    control: `wrapp:${name}:control`,
    value: (key) => `wrapp:${name}:${key}`,
  };
}
