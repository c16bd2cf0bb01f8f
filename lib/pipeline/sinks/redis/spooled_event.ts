/**
 * {@linkcode SpooledEvent}: an event as the Redis sink keeps it until Redis has it.
 *
 * @module
 */

import type { Event } from "../../../core/event.ts";

/** An event with the run and pid it belongs to: what the queue and the spool hold. */
export interface SpooledEvent {
  /** Run id of the wrapp process that received it. */
  run: string;
  /** Child pid when it was received. */
  pid: number;
  /** The event. */
  event: Event;
  /**
   * Its sequence number for this service (`seq` in its entries), given when the sink
   * accepted it; continues across restarts of wrapp (see ./delivery_ledger.ts).
   */
  seq?: number;
}
