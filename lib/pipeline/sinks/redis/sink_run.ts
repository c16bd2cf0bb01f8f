/**
 * The Redis sink from start to close: what it does at start (the start reports, the first
 * connection, the writer loop, the heartbeat timer), the heartbeat and health checks while
 * it runs, and the close sequence. `RedisSink` (../redis.ts) holds one {@linkcode SinkRun}
 * and hands these to it.
 *
 * @module
 */

import { now } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import { type LongTimer, setLongInterval } from "../../../core/long_timeout.ts";
import { describeConnectFailure } from "../redis_connection.ts";
import type { DiskSpool } from "../disk_spool.ts";
import type { DeliveryLedger } from "../delivery_ledger.ts";
import type { FlushReport, RedisSinkOptions, RedisSinkStats } from "./options.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import type { SinkCounters, SinkLifecycle, SinkParts } from "./sink_parts.ts";
import { reportAtStart } from "./start_reports.ts";

/** What a {@linkcode SinkRun} works with: the sink's parts and state, and a few of its methods. */
export interface SinkRunSetup {
  /** The sink's options. */
  options: RedisSinkOptions;
  /** The sink's parts, wired. */
  parts: SinkParts;
  /** The sink's counters. */
  counters: SinkCounters;
  /** The sink's lifecycle flags. */
  lifecycle: SinkLifecycle;
  /** The spool, if any. */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** Why the spool folder cannot be used, if it cannot. */
  spoolProblem: string | undefined;
  /** The delivery ledger. */
  ledger: DeliveryLedger;
  /** `host:port` (or the Sentinels'), as messages show it. */
  address: string;
  /** The state hash the heartbeat updates. */
  stateKey: string;
  /** The sink's `flushWithin()`. */
  flushWithin(timeoutMs: number, options: { untilStalled?: boolean }): Promise<FlushReport>;
  /** The sink's `stats()`. */
  stats(): RedisSinkStats;
  /** The child's pid now. */
  pid(): number;
  /** Remove passwords from a text. */
  redact(text: string): string;
  /** Debug logger (redacting). */
  debug: DebugLog;
}

/** Starts, watches and closes one sink; see the module documentation. */
export class SinkRun {
  readonly #setup: SinkRunSetup;
  #loop: Promise<void> = Promise.resolve();
  #healthTimer: LongTimer | undefined;

  /** The run of the sink `setup` describes; nothing happens before {@linkcode SinkRun.start}. */
  constructor(setup: SinkRunSetup) {
    this.#setup = setup;
  }

  /** Queue the start reports, connect (Redis being down is not an error), start the writer and the heartbeat. */
  async start(): Promise<void> {
    const { options, parts, spool, counters } = this.#setup;
    const { connections, outage, statuses, writer } = parts;
    reportAtStart(
      {
        spool,
        spoolProblem: this.#setup.spoolProblem,
        ledger: this.#setup.ledger,
        streamName: options.streamName,
        policy: options.policy ?? "drop_oldest",
        memoryLimit: options.memoryQueueEvents ?? 100_000,
      },
      statuses,
      counters,
    );
    if (!(await connections.connect(options.connectTimeoutMs ?? 5000))) {
      outage.markDown(outage.connectionError ?? new Error("connection timed out"));
    } else {
      this.#setup.debug(`connected to ${this.#setup.address}`);
    }
    this.#loop = writer.run();
    const interval = options.healthIntervalMs ?? 60_000;
    // health_interval may be longer than setInterval can wait (it would PING every ms).
    this.#healthTimer = setLongInterval(() => this.#heartbeat(), interval, { unref: true });
  }

  /**
   * Flush until delivery stalls for `closeTimeoutMs`, leave what is undelivered in the
   * spool (without one, count it as dropped), and close the connections.
   */
  async close(): Promise<void> {
    const { options, parts, counters, lifecycle, spool } = this.#setup;
    // Drops the 10 s limit held back go out with the flush, or the counts never add up.
    parts.statuses.reportDrops(0, true);
    const report = await this.#setup.flushWithin(options.closeTimeoutMs ?? 5000, {
      untilStalled: true,
    });
    const { backlog, connections, sender, statuses, writer } = parts;
    lifecycle.closing = true;
    this.#healthTimer?.clear();
    if (!report.complete && backlog.inflight) {
      // A pipeline still waiting on a stuck Redis: cut it short, its events go back to the queue.
      // A pooled connection reconnects at once: the other sinks go on with it.
      connections.cut(options.pool !== undefined);
    }
    writer.kick();
    await this.#loop;
    sender.stop(); // no batch is being sent any more
    // Drops during the flush: said to the next start, with what it keeps (and no timer left).
    statuses.reportDrops(0, true);
    const left = backlog.keepForNextStart();
    if (left.length > 0) {
      counters.ownDropped += left.length;
      statuses.status(
        "warning",
        `Redis sink closed with ${left.length} undelivered events and nowhere to keep them: dropped`,
        { dropped: left.length },
        false,
      );
    }
    await spool?.close();
    connections.detach();
    await this.#setup.ledger.close();
    await connections.close();
    lifecycle.closed = true;
    parts.progress.notify();
    const stats = this.#setup.stats();
    this.#setup.debug(
      `closed: received ${stats.received}, sent ${stats.sent}, dropped ${stats.dropped}, errors ${stats.errors}` +
        (stats.spooled > 0 ? `, ${stats.spooled} left in spool "${spool!.dir}"` : ""),
    );
  }

  /** `undefined` when Redis answers PING on every connection, else what is wrong. */
  async healthCheck(): Promise<string | undefined> {
    if (this.#setup.lifecycle.closed) return "Redis sink is closed";
    const { connections, outage } = this.#setup.parts;
    if (!outage.down) {
      try {
        await connections.ping();
      } catch (error) {
        outage.markDown(error);
      }
    }
    return outage.down
      ? this.#setup.redact(describeConnectFailure(this.#setup.options, outage.cause))
      : undefined;
  }

  /** Every health interval while Redis is up: update the state hash, or find Redis down. */
  async #heartbeat(): Promise<void> {
    const { parts: { connections, outage }, lifecycle } = this.#setup;
    if (outage.down || lifecycle.closing) return;
    try {
      const [pid, time] = [String(this.#setup.pid()), String(Math.floor(now()))];
      await connections.heartbeat(this.#setup.stateKey, pid, time);
    } catch (error) {
      if (!lifecycle.closing) outage.markDown(error);
    }
  }
}
