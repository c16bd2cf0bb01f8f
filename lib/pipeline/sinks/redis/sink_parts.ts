/**
 * The Redis sink put together: its counters, and the parts that hold and send its events
 * (connections, backlog, batch sender, outage, status events, writer loop), wired to each
 * other. `RedisSink` (../redis.ts) is their public face.
 *
 * @module
 */

import { VERSION } from "../../../core/version.ts";
import type { DebugLog } from "../../../core/debug.ts";
import type { EventEncoders } from "../../../core/event.ts";
import { emptyStats } from "../sink.ts";
import type { DiskSpool } from "../disk_spool.ts";
import type { DeliveryLedger } from "../delivery_ledger.ts";
import type { RedisKeys } from "./keys.ts";
import type { RedisSinkOptions } from "./options.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import type { RedisEncoder, RedisEncoderOptions } from "./encoders.ts";
import { Backlog } from "./backlog.ts";
import { BurstPacer } from "./burst_pacer.ts";
import { BatchSender } from "./batch_sender.ts";
import { SinkConnections } from "./connections.ts";
import { Outage } from "./outage.ts";
import { SinkStatus } from "./sink_status.ts";
import { ProgressWaiters } from "./wakeups.ts";
import { SinkWriter } from "./writer.ts";

/** The sink's counters. */
export class SinkCounters {
  /** Received, sent and errors (`dropped` is {@linkcode SinkCounters.dropped}). */
  readonly stats = emptyStats();
  /** Events the sink dropped itself (the spool counts its own). */
  ownDropped = 0;
  /** Events found in the spool at start. */
  recovered = 0;
  /** Events the previous process lost. */
  lostBefore = 0;
  /** Recovered + received: what flush() counts against sent + dropped. */
  accepted = 0;
  readonly #spool: DiskSpool<SpooledEvent> | undefined;

  /** Counters of a sink with `spool`. */
  constructor(spool: DiskSpool<SpooledEvent> | undefined) {
    this.#spool = spool;
  }

  /** Events dropped: by the sink, to spool limits, and to corruption. */
  dropped(): number {
    return this.ownDropped +
      (this.#spool ? this.#spool.droppedRecords + this.#spool.skippedLines : 0);
  }

  /** Events done with: sent, or dropped and counted. */
  delivered(): number {
    return this.stats.sent + this.dropped();
  }
}

/** Whether the sink is closing (no more sending), or closed. */
export interface SinkLifecycle {
  /** close() has begun to cut things short. */
  closing: boolean;
  /** close() is done. */
  closed: boolean;
}

/** What {@linkcode assembleSink} needs. */
export interface SinkSetup {
  /** The sink's options. */
  options: RedisSinkOptions;
  /** The keys written. */
  keys: RedisKeys;
  /** `host:port` (or the Sentinels'), as messages show it. */
  address: string;
  /** `Redis at "host:port"`: what messages name. */
  where: string;
  /** The spool, if any. */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** The delivery ledger. */
  ledger: DeliveryLedger;
  /** The counters. */
  counters: SinkCounters;
  /** The sink's lifecycle. */
  lifecycle: SinkLifecycle;
  /** The encoders of `keys`, in the layout of these options. */
  encoders(keys: RedisKeys, options: RedisEncoderOptions): EventEncoders<RedisEncoder>;
  /** Whether crash and hang events can be encoded yet. */
  reportsLoaded(): boolean;
  /** Load what encodes crash and hang events. */
  loadReports(): Promise<void>;
  /** The child's pid now. */
  pid(): number;
  /** Remove passwords from a text. */
  redact(text: string): string;
  /** Debug logger (redacting). */
  debug: DebugLog;
}

/** The parts of a sink, wired. */
export interface SinkParts {
  /** The connections. */
  connections: SinkConnections;
  /** Where events wait. */
  backlog: Backlog;
  /** Sends one batch. */
  sender: BatchSender;
  /** Whether Redis is away. */
  outage: Outage;
  /** The sink's own status events. */
  statuses: SinkStatus;
  /** The writer loop. */
  writer: SinkWriter;
  /** Those waiting for the writer. */
  progress: ProgressWaiters;
  /** Holds a bursting service to Redis's pace. */
  pacer: BurstPacer;
}

/** Build and wire the parts of a sink. */
export function assembleSink(setup: SinkSetup): SinkParts {
  const { options, spool, ledger, counters, lifecycle, debug } = setup;
  const memoryLimit = options.memoryQueueEvents ?? 100_000;
  const progress = new ProgressWaiters();
  const parts = { progress } as SinkParts;
  parts.connections = new SinkConnections(options, {
    error: (db, error) => parts.outage.connectionFailed(db, error),
    ready: () => {
      parts.outage.connected();
      parts.writer.kick();
    },
  });
  parts.statuses = new SinkStatus({
    address: setup.address,
    where: setup.where,
    runId: options.runId,
    pid: setup.pid,
    backlog: () => parts.backlog,
    spool,
    memoryLimit,
    accepted: () => {
      counters.stats.received++;
      counters.accepted++;
    },
    dropped: () => counters.dropped(),
    redact: setup.redact,
    onStatus: options.onStatus,
    debug,
  });
  parts.backlog = new Backlog(spool, ledger, {
    memoryLimit,
    batchEvents: options.batchEvents ?? 2000,
    policy: options.policy ?? "drop_oldest",
  }, {
    isDown: () => parts.outage.down,
    isIdle: () => parts.writer.idle,
    isClosing: () => lifecycle.closing,
    isClosed: () => lifecycle.closed,
    kick: () => parts.writer.kick(),
    reportDrops: (count) => parts.statuses.reportDrops(count),
    dropped: (count) => counters.ownDropped += count,
    notice: (phase, message, fields) => parts.statuses.status(phase, message, fields, "memory"),
    debug,
  });
  parts.sender = _sender(setup, parts);
  parts.outage = new Outage(setup.where, spool ? `spool "${spool.dir}"` : "memory", {
    status: (phase, message, fields) => parts.statuses.status(phase, message, fields),
    reportDrops: (count, force) => parts.statuses.reportDrops(count, force),
    dropped: () => counters.dropped(),
    spillMemory: () => parts.backlog.spillMemory(),
    isClosing: () => lifecycle.closing,
    notify: () => progress.notify(),
    debug,
  });
  // A burst waits in the pipe once three batches wait in memory (at most half the queue): more
  // measured no faster, and each waiting line lags its timestamp.
  const holdAt = Math.max(1, Math.min(memoryLimit / 2, 3 * (options.batchEvents ?? 2000)));
  parts.pacer = new BurstPacer({
    queued: () => parts.backlog.memory.length,
    delivered: () => counters.delivered(),
    paused: () => parts.outage.down || lifecycle.closing,
    progress,
  }, { holdAt, resumeAt: holdAt / 2, stallMs: options.burstStallMs ?? 200 });
  parts.writer = new SinkWriter({
    ...parts,
    spool,
    ledger,
    isClosing: () => lifecycle.closing,
    countError: () => counters.stats.errors++,
    debug,
  });
  return parts;
}

function _sender(setup: SinkSetup, parts: SinkParts): BatchSender {
  const { options, counters } = setup;
  return new BatchSender({
    clients: parts.connections.clients,
    encoders: setup.encoders(setup.keys, {
      maxLen: options.maxLen ?? 1000,
      hostname: options.hostname,
      version: options.version ?? VERSION,
      layout: options.layout,
      removeMarkers: options.removeMarkers,
    }),
    replicasAck: options.replicasAck ?? 0,
    replicasAckTimeoutMs: options.replicasAckTimeoutMs ?? 1000,
    commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
    reportsLoaded: setup.reportsLoaded,
    loadReports: setup.loadReports,
    sent: (count) => counters.stats.sent += count,
    dropped: (count) => counters.ownDropped += count,
    error: () => counters.stats.errors++,
    rejected: (error) => parts.statuses.noteRejection(error),
    debug: setup.debug,
  });
}
