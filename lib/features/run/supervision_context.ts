/**
 * What the pieces of one supervision share: the service's config, the session's run id,
 * and the ways it reports (status events to every sink, notices for the operator).
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import type { StatusEvent } from "../../core/event.ts";
import type { DebugLog } from "../../core/debug.ts";
import type { Event } from "../../core/event.ts";

/** The config, the run id and the reporting of one {@linkcode Supervisor}. */
export interface SupervisionContext {
  /** The service's config. */
  readonly config: Config;
  /** The session's id (one per `wrapp run`, shared by restarts). */
  readonly runId: string;
  /** Debug logger. */
  readonly debug: DebugLog;
  /** A status event to every sink (dropped before the sinks are open). */
  status(
    phase: StatusEvent["phase"],
    message: string,
    fields: StatusEvent["fields"],
    time?: number,
  ): void;
  /** Any event to every sink (dropped before the sinks are open). */
  emit(event: Event): void;
  /** A line for the operator on stderr (`wrapp: TEXT`); never waits for a stuck reader. */
  notice(text: string): Promise<void>;
  /** A line as it is on stderr (a crash summary starts with `wrapp: ` already). */
  stderrLine(text: string): void;
}
