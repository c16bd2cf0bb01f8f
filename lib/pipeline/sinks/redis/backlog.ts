/**
 * {@linkcode Backlog}: where the Redis sink's events wait until Redis has them — the
 * memory queue, the disk spool behind it, the overflow of a full disk (policy `block`)
 * and the sink's own notices — and the batch being sent.
 *
 * Order holds across every switch: what waits in memory is always older than what waits
 * in the spool, and the overflow is newer than both. Events only in memory are held in the
 * delivery ledger until Redis, the spool or a counted drop has them.
 *
 * @module
 */

import { now, type StatusEvent } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import type { DiskSpool, SpoolPolicy } from "../disk_spool.ts";
import type { DeliveryLedger } from "../delivery_ledger.ts";
import { EventQueue } from "./event_queue.ts";
import type { SpooledEvent } from "./spooled_event.ts";

/** The batch being sent, and where it came from (where its undelivered rest goes back). */
export interface Inflight {
  /** Where the batch was taken from. */
  source: "memory" | "spool" | "overflow" | "notices";
  /** With source `notices`: how many leading events are notices; the rest came from memory. */
  notices?: number;
  /** The events. */
  batch: SpooledEvent[];
}

/** What a {@linkcode Backlog} asks of its sink. */
export interface BacklogHooks {
  /** Whether Redis is away (events go to the spool). */
  isDown(): boolean;
  /** Whether the writer sleeps waiting for events. */
  isIdle(): boolean;
  /** Whether the sink is closing. */
  isClosing(): boolean;
  /** Whether the sink is closed. */
  isClosed(): boolean;
  /** Wake the writer. */
  kick(): void;
  /** Events were dropped to stay within a limit: say so. */
  reportDrops(count: number): void;
  /** Events dropped by the sink itself (not by the spool), to count. */
  dropped(count: number): void;
  /** A status event of the sink's own, waiting in memory ahead of the events. */
  notice(phase: StatusEvent["phase"], message: string, fields: StatusEvent["fields"]): void;
  /** Debug logger. */
  debug: DebugLog;
}

/** Limits of a {@linkcode Backlog}. */
export interface BacklogLimits {
  /** Events the memory queue holds before events go to the spool. */
  memoryLimit: number;
  /** Most events per batch. */
  batchEvents: number;
  /** What a full spool (or memory without one) does. */
  policy: SpoolPolicy;
}

// The sink's own status events wait in memory, never in the (maybe full) spool: at most this many.
const _MAX_NOTICES = 1000;

/** Where events wait; see the module documentation. */
export class Backlog {
  /** The spool, if the sink has one. */
  readonly spool: DiskSpool<SpooledEvent> | undefined;
  /** Events waiting in memory. */
  readonly memory = new EventQueue<SpooledEvent>();
  /** Policy block, disk full: events newer than the spool that it could not take yet. */
  readonly overflow = new EventQueue<SpooledEvent>();
  /** The sink's own status events, sent ahead of everything else. */
  readonly notices = new EventQueue<SpooledEvent>();
  /** The batch being sent. */
  inflight: Inflight | undefined;
  readonly #ledger: DeliveryLedger;
  readonly #limits: BacklogLimits;
  readonly #hooks: BacklogHooks;
  #diskFullSince: number | undefined;

  /** A backlog in front of `spool` (if any), noting held events in `ledger`. */
  constructor(
    spool: DiskSpool<SpooledEvent> | undefined,
    ledger: DeliveryLedger,
    limits: BacklogLimits,
    hooks: BacklogHooks,
  ) {
    this.spool = spool;
    this.#ledger = ledger;
    this.#limits = limits;
    this.#hooks = hooks;
  }

  /** Events waiting in memory, including a batch being sent that did not come from the spool. */
  get queued(): number {
    return this.memory.length + this.overflow.length + this.notices.length +
      (this.inflight && this.inflight.source !== "spool" ? this.inflight.batch.length : 0);
  }

  /**
   * Whether the spool (or, without one, the memory queue) is below its limit and, with
   * `block`, the disk took every event handed to the spool.
   */
  get hasCapacity(): boolean {
    return this.spool
      ? !this.spool.full && this.overflow.length === 0
      : this.memory.length < this.#limits.memoryLimit;
  }

  /** Put records at the end of the queue: memory, unless order or limits send them to the spool. */
  enqueue(records: SpooledEvent[]): void {
    const spool = this.spool;
    const hooks = this.#hooks;
    if (
      spool &&
      (spool.count > 0 || this.overflow.length > 0 || hooks.isDown() ||
        this.memory.length + records.length > this.#limits.memoryLimit)
    ) {
      // The spool only ever holds events newer than those in memory, so order holds.
      if (this.#limits.policy === "block") {
        // Nothing is dropped: what the disk cannot take waits in memory, and
        // waitForCapacity() holds the service's output back until there is room. Held in
        // the ledger until the spool or Redis has them.
        let held = this.#ledger.nextHeld(records.length);
        for (const record of records) record.seq = held++;
        this.overflow.push(records);
        this.drainOverflow();
        if (!hooks.isDown()) hooks.kick();
        return;
      }
      // In the spool (page cache at once) they survive a kill -9: numbered, not held.
      let seq = this.#ledger.next(records.length);
      for (const record of records) record.seq = seq++;
      const dropped = spool.append(records);
      if (dropped > 0) hooks.reportDrops(dropped);
      if (!hooks.isDown()) hooks.kick(); // while down the writer backs off; new events must not hurry it
      return;
    }
    // Only in memory: held in the ledger until they are in Redis, spooled or counted. A
    // sleeping writer wakes up to send them, and its write of the ledger covers them too.
    let seq = this.#ledger.nextHeld(records.length, {
      defer: hooks.isIdle() && !hooks.isClosing(),
    });
    for (const record of records) record.seq = seq++;
    this.memory.push(records);
    if (
      !spool && this.#limits.policy === "drop_oldest" &&
      this.memory.length > this.#limits.memoryLimit
    ) {
      const gone = this.memory.take(this.memory.length - this.#limits.memoryLimit);
      this.release(gone);
      const dropped = gone.length;
      hooks.dropped(dropped);
      hooks.reportDrops(dropped);
    }
    if (!hooks.isDown()) hooks.kick();
  }

  /** Queue a status event of the sink's own ahead of the events, keeping at most 1000. */
  pushNotice(record: SpooledEvent): void {
    this.notices.push([record]);
    if (this.notices.length > _MAX_NOTICES) {
      this.#hooks.dropped(this.notices.take(this.notices.length - _MAX_NOTICES).length);
    }
    if (!this.#hooks.isDown()) this.#hooks.kick();
  }

  /**
   * Policy `block`: move what waits in the overflow to the spool, as far as the disk takes
   * it, and say once when the disk is full and when it has room again.
   */
  drainOverflow(): void {
    const spool = this.spool;
    if (spool === undefined || this.overflow.length === 0 || this.#hooks.isClosed()) return;
    const waiting = this.overflow.takeAll();
    const written = spool.appendUntilFull(waiting);
    this.release(waiting.slice(0, written));
    if (written < waiting.length) {
      this.overflow.unshift(waiting.slice(written));
      if (this.#diskFullSince === undefined) {
        this.#diskFullSince = now();
        this.#hooks.notice(
          "warning",
          `${spool.lastWriteError}: the service's output is held back until there is room (policy block)`,
          { error: spool.lastWriteError ?? "", waiting: this.overflow.length },
        );
      }
    } else if (this.#diskFullSince !== undefined) {
      const heldMs = Math.round(now() - this.#diskFullSince);
      this.#diskFullSince = undefined;
      this.#hooks.notice(
        "info",
        `Spool "${spool.dir}" has room again after ${(heldMs / 1000).toFixed(1)}s`,
        { held_ms: heldMs },
      );
    }
  }

  /** `records` left the memory queue for Redis, the spool or a counted drop: no longer held. */
  release(records: readonly SpooledEvent[]): void {
    if (records.length > 0) this.#ledger.release(records.map((record) => record.seq));
  }

  /** The next batch to send: notices first, then memory, the spool, the overflow. */
  async nextBatch(): Promise<Inflight | undefined> {
    const batchEvents = this.#limits.batchEvents;
    // The sink's own notices first: they say what happened to the events that follow.
    // Memory fills the rest of the batch: the first batch after an outage must make room there.
    if (this.notices.length > 0) {
      const batch = this.notices.take(batchEvents);
      const notices = batch.length;
      for (const record of this.memory.take(batchEvents - notices)) batch.push(record);
      return { source: "notices", batch, notices };
    }
    if (this.memory.length > 0) {
      return { source: "memory", batch: this.memory.take(batchEvents) };
    }
    if (this.spool && this.spool.count > 0) {
      const batch = await this.spool.readBatch(batchEvents);
      if (batch.length > 0) return { source: "spool", batch };
    }
    // Nothing, or only unreadable lines (now counted) while memory may have filled meanwhile.
    if (this.memory.length > 0) {
      return { source: "memory", batch: this.memory.take(batchEvents) };
    }
    if (this.overflow.length > 0 && (this.spool?.count ?? 0) === 0) {
      return { source: "overflow", batch: this.overflow.take(batchEvents) };
    }
    return undefined;
  }

  /** Put the undelivered rest of a batch (from index `done`) back where it came from. */
  giveBack(inflight: Inflight, done: number): void {
    const rest = inflight.batch.slice(done);
    if (inflight.source === "memory") this.memory.unshift(rest);
    else if (inflight.source === "overflow") this.overflow.unshift(rest);
    else if (inflight.source === "notices") {
      const notices = Math.max(0, (inflight.notices ?? 0) - done);
      this.memory.unshift(rest.slice(notices));
      this.notices.unshift(rest.slice(0, notices));
    }
  }

  /**
   * Redis went away: everything waiting in memory goes to disk now, so a kill -9 during
   * the outage loses nothing fsynced (not while a spool batch is being sent: the spool
   * takes nothing in front of it then).
   */
  spillMemory(): void {
    if (!this.spool || this.memory.length === 0 || this.inflight?.source === "spool") return;
    const waiting = this.memory.takeAll();
    try {
      const dropped = this.spool.prepend(waiting);
      this.release(waiting);
      if (dropped > 0) this.#hooks.reportDrops(dropped);
    } catch (error) {
      this.memory.unshift(waiting); // the disk failed us: they wait in memory instead
      this.#hooks.debug(String((error as Error).message));
    }
  }

  /**
   * The sink closes: what waits in memory goes in front of the spool, the overflow behind
   * it, as far as they fit. Returns what found no place (to count as dropped).
   */
  keepForNextStart(): SpooledEvent[] {
    // What waits in memory is older than the spool, the overflow newer.
    let left = [...this.notices.takeAll(), ...this.memory.takeAll()];
    let kept = false;
    if (left.length > 0 && this.spool) {
      try {
        this.spool.prepend(left); // what it has to drop, it counts itself
        kept = true;
      } catch (error) {
        this.#hooks.debug(String((error as Error).message));
      }
    }
    const overflow = this.overflow.takeAll();
    this.release(left); // spooled, or counted as dropped by the caller
    if (overflow.length > 0) {
      const written = this.spool!.appendUntilFull(overflow);
      left = kept ? overflow.slice(written) : [...left, ...overflow.slice(written)];
      kept = left.length === 0;
      this.release(overflow); // the same
    }
    return left.length > 0 && !kept ? left : [];
  }
}
