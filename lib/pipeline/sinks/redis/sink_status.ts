/**
 * {@linkcode SinkStatus}: the Redis sink's own status events — made, queued (in line with
 * the events, or ahead of them in memory), and handed to `onStatus` — with drops and
 * rejections said at a bounded rate.
 *
 * @module
 */

import { now, type StatusEvent } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import type { DiskSpool } from "../disk_spool.ts";
import { describeRedisError } from "../redis_connection.ts";
import type { Backlog } from "./backlog.ts";
import { startTimer, type Timer } from "../../../core/timers.ts";
import { dropsMessage } from "./sink_messages.ts";
import type { SpooledEvent } from "./spooled_event.ts";

/** What a {@linkcode SinkStatus} works with. */
export interface SinkStatusOptions {
  /** `host:port` (or the Sentinels'), in every event's fields. */
  address: string;
  /** `Redis at "host:port"`: what messages name. */
  where: string;
  /** Run id of the events. */
  runId: string;
  /** The child's pid now. */
  pid(): number;
  /** Where the events are queued. */
  backlog(): Backlog;
  /** The spool, if any (drop reports name it). */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** Events the memory queue holds (drop reports without a spool name it). */
  memoryLimit: number;
  /** A queued event was accepted: count it as received. */
  accepted(): void;
  /** Events dropped so far. */
  dropped(): number;
  /** Remove passwords from a text. */
  redact(text: string): string;
  /** Called with each status event. */
  onStatus?: (event: StatusEvent) => void;
  /** Debug logger. */
  debug: DebugLog;
  /** Shortest time between two drop reports, ms. Default 10 000. */
  dropReportIntervalMs?: number;
}

/** Makes and queues the sink's status events; see the module documentation. */
export class SinkStatus {
  readonly #options: SinkStatusOptions;
  #rejections = new Set<string>();
  #dropsReportedAt = -Infinity;
  #dropsUnreported = 0;
  /** Reports what the interval held back once it is over, if nothing else did by then. */
  #dropsTimer: Timer | undefined;
  #writeErrorsReported = 0;

  /** Status events as `options` say. */
  constructor(options: SinkStatusOptions) {
    this.#options = options;
  }

  /**
   * Queue a status event of the sink's own, and tell `onStatus`. `queue`: `true`, in line
   * with the events; `"memory"`, ahead of them in a bounded memory queue that never goes to
   * the spool (for what a full spool would drop or refuse: drop and disk reports); `false`,
   * not at all. Returns the event's `seq`, once it has one.
   */
  status(
    phase: StatusEvent["phase"],
    message: string,
    fields: StatusEvent["fields"],
    queue: boolean | "memory" = true,
  ): number | undefined {
    const options = this.#options;
    const event: StatusEvent = {
      kind: "status",
      phase,
      message: options.redact(message),
      fields: { sink: "redis", address: options.address, ...fields },
      time: now(),
    };
    options.debug(event.message);
    let record: SpooledEvent | undefined;
    if (queue) {
      options.accepted();
      record = { run: options.runId, pid: options.pid(), event };
      if (queue === true) options.backlog().enqueue([record]);
      else options.backlog().pushNotice(record);
    }
    try {
      options.onStatus?.(event);
    } catch (error) {
      options.debug(`onStatus threw: ${error}`);
    }
    return record?.seq;
  }

  /**
   * Say that events were dropped: at most every 10 s, with the count since the last time.
   * What the interval holds back is said when it ends, so a burst of drops followed by
   * quiet is not left unsaid until the next drop.
   */
  reportDrops(count: number, force = false): void {
    this.#dropsUnreported += count;
    if (this.#dropsUnreported === 0) return;
    const time = now();
    const interval = this.#options.dropReportIntervalMs ?? 10_000;
    const wait = this.#dropsReportedAt + interval - time;
    if (!force && wait > 0) {
      this.#dropsTimer ??= startTimer(
        () => {
          this.#dropsTimer = undefined;
          this.reportDrops(0);
        },
        wait,
        true,
      );
      return;
    }
    this.stop();
    this.#dropsReportedAt = time;
    const dropped = this.#dropsUnreported;
    this.#dropsUnreported = 0;
    const spool = this.#options.spool;
    const writeFailed = spool !== undefined && spool.writeErrors > this.#writeErrorsReported;
    this.#writeErrorsReported = spool?.writeErrors ?? 0;
    const message = dropsMessage(dropped, spool, writeFailed, this.#options.memoryLimit);
    // In memory: the spool that is full, or failing, would drop or refuse the report itself.
    const total = this.#options.dropped();
    this.status("warning", message, { dropped, dropped_total: total }, "memory");
  }

  /** Stop the timer of held-back drops (they are being said now, or never will be). */
  stop(): void {
    this.#dropsTimer?.clear();
    this.#dropsTimer = undefined;
  }

  /** Redis rejected an entry for good: say so once per reason (at most 20 reasons). */
  noteRejection(error: unknown): void {
    const reason = describeRedisError(error);
    if (this.#rejections.has(reason) || this.#rejections.size >= 20) return;
    this.#rejections.add(reason);
    // Not queued: a rejected status entry would be rejected again, forever.
    this.status("warning", `${this.#options.where} rejected an entry: ${reason}`, {
      error: reason,
    }, false);
  }
}
