/**
 * {@linkcode SinkWriter}: the Redis sink's one writer loop. It takes the next batch from
 * the backlog, sends it, and acknowledges what Redis took where the batch came from; when
 * Redis is away it backs off, waits for the connections, and probes with PING when there
 * is nothing to send.
 *
 * @module
 */

import type { DebugLog } from "../../../core/debug.ts";
import type { DiskSpool } from "../disk_spool.ts";
import type { DeliveryLedger } from "../delivery_ledger.ts";
import type { Backlog } from "./backlog.ts";
import type { BatchSender } from "./batch_sender.ts";
import type { SinkConnections } from "./connections.ts";
import type { Outage } from "./outage.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import { type ProgressWaiters, WriterWakeup } from "./wakeups.ts";

/** What the writer works with: the sink's parts. */
export interface SinkWriterParts {
  /** Where events wait. */
  backlog: Backlog;
  /** The spool behind the backlog, if any. */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** Notes which events are only in memory. */
  ledger: DeliveryLedger;
  /** Sends one batch. */
  sender: BatchSender;
  /** Whether Redis is away. */
  outage: Outage;
  /** The connections. */
  connections: SinkConnections;
  /** Told after every batch. */
  progress: ProgressWaiters;
  /** Whether the sink is closing (the loop ends). */
  isClosing(): boolean;
  /** A batch failed, or the loop met an unexpected error: count it. */
  countError(): void;
  /** Debug logger. */
  debug: DebugLog;
}

/** The writer loop; see the module documentation. */
export class SinkWriter {
  /** The writer waits for events (nothing queued, Redis up): a kick sends what comes next. */
  idle = false;
  readonly #parts: SinkWriterParts;
  readonly #wakeup = new WriterWakeup();

  /** A writer over `parts`; it starts with {@linkcode SinkWriter.run}. */
  constructor(parts: SinkWriterParts) {
    this.#parts = parts;
  }

  /** Wake the writer: new events, a connection ready, close. */
  kick(): void {
    this.#wakeup.kick();
  }

  /** Send until the sink closes. */
  async run(): Promise<void> {
    // Events queued while this loop sleeps are noted in the ledger by the write that says
    // they are being sent (the backlog defers theirs): one file write less per batch. So
    // the ledger is flushed before every other wait of this loop.
    const { backlog, ledger, outage } = this.#parts;
    while (!this.#parts.isClosing()) {
      try {
        if (outage.down) {
          ledger.flush();
          if (!(await this.#waitForRedis())) continue;
        }
        const next = await backlog.nextBatch();
        if (next === undefined) {
          ledger.flush();
          if (outage.down) await this.#probe();
          else {
            this.idle = true;
            await this.#sleep(Infinity);
            this.idle = false;
          }
          continue;
        }
        backlog.inflight = next;
        if (next.source === "memory") {
          ledger.sending([next.batch[0].seq ?? 0, next.batch.at(-1)!.seq ?? 0]);
        } else {
          ledger.flush();
        }
        const { done, failure } = await this.#parts.sender.send(next.batch);
        backlog.inflight = undefined;
        const delivered = done === next.batch.length ? next.batch : next.batch.slice(0, done);
        if (next.source === "memory") {
          // Lazily: the next batch's "sending" write (or the fsync timer) carries it.
          ledger.sent(delivered.map((record) => record.seq), { lazy: true });
        } else if (next.source === "spool") {
          this.#parts.spool!.ack(done);
          backlog.drainOverflow(); // delivered segments gave disk space back
        } else {
          backlog.release(delivered);
        }
        if (failure === undefined) {
          if (outage.down) this.#markUp(done);
        } else {
          this.#parts.countError();
          backlog.giveBack(next, done);
          outage.markDown(failure);
        }
      } catch (error) {
        // Not expected (a spool read failing, a bug): count, keep the events, wait, go on.
        const inflight = backlog.inflight;
        if (inflight) backlog.giveBack(inflight, 0);
        if (inflight?.source === "memory") ledger.sending(undefined);
        backlog.inflight = undefined;
        this.#parts.countError();
        this.#parts.debug(`writer: ${error}`);
        ledger.flush();
        await this.#sleep(1000);
      }
      this.#parts.progress.notify();
    }
    this.idle = false;
    ledger.flush();
  }

  /** Redis answered again; `justSent` events went out with the batch that proved it. */
  #markUp(justSent: number): void {
    const spooled = this.#parts.spool?.count ?? 0;
    this.#parts.outage.markUp(justSent + this.#parts.backlog.memory.length + spooled);
  }

  /** Back off, then wait until every connection is ready. False when closing. */
  async #waitForRedis(): Promise<boolean> {
    const { connections, outage } = this.#parts;
    await this.#sleep(outage.backoffMs);
    while (!this.#parts.isClosing()) {
      if (connections.ready) return true;
      outage.connectionGone();
      connections.reopenEnded();
      await this.#sleep(250);
    }
    return false;
  }

  /** Nothing to send while down: PING decides whether Redis is back. */
  async #probe(): Promise<void> {
    try {
      await this.#parts.connections.ping();
      this.#markUp(0);
    } catch (error) {
      this.#parts.outage.markDown(error);
    }
  }

  /** Sleep `ms` or until kicked (new events, a connection ready, close). */
  #sleep(ms: number): Promise<void> {
    if (this.#parts.isClosing()) return Promise.resolve();
    return this.#wakeup.sleep(ms);
  }
}
