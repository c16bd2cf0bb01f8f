/**
 * What a wrapp says about its services when `wrapp ps` asks (see ./status_socket.ts): one
 * JSON line, the same for `wrapp run svc.toml` (one service) and `wrapp up DIR` (many).
 *
 * @module
 */

/**
 * Where a service is in its life: `starting` (before its first start), `running`,
 * `stopping` (a stop signal was sent, waiting for it to exit), `restarting` (it exited,
 * the next start is due), `exited` (it ended for good while other services of its wrapp
 * still run).
 */
export type ServiceState = "starting" | "running" | "stopping" | "restarting" | "exited";

/** How the service's latest run ended. */
export interface LastExit {
  /** Its exit code, when it exited by itself. */
  code?: number;
  /** The signal that ended it (`SIGSEGV`), when one did. */
  signal?: string;
  /** When, in ms since the epoch. */
  at: number;
}

/** One service as its wrapp sees it. */
export interface ServiceSnapshot {
  /** Its stream name. */
  name: string;
  /** The config file it came from. */
  config: string;
  /** See {@linkcode ServiceState}. */
  state: ServiceState;
  /** The pid of its running main process. */
  pid?: number;
  /** When the current run started, in ms since the epoch. */
  startedAt?: number;
  /** How many times it was restarted by this wrapp. */
  restarts: number;
  /** How its latest run ended, once one did. */
  lastExit?: LastExit;
  /** Lines it printed (stdout and stderr) since this wrapp started. */
  lines: number;
  /** A short status text of the supervisor (a watchdog's `STATUS=`), when it has one. */
  status?: string;
}

/** The answer to the `ps` query: the wrapp, its clock and its services. */
export interface WrappSnapshot {
  /** The wrapp process. */
  wrapp: { pid: number; version: string; startedAt: number };
  /** The wrapp's clock when it answered, ms since the epoch (the counters' time). */
  time: number;
  /** Its services, in config order. */
  services: ServiceSnapshot[];
}
