/**
 * {@linkcode BatchSender}: sends one batch of the Redis sink's events as one pipeline per
 * database, and reads from the replies how many leading events are done.
 *
 * A batch is acknowledged command by command: from the first command that failed on a
 * connection error or a reply worth retrying, the rest of the batch is sent again later
 * (at-least-once). A command Redis rejects for good is not retried: its event counts as
 * dropped. With `replicasAck`, every pipeline ends with `WAIT`, and a batch too few
 * replicas hold is asked about again on the same connections rather than written twice.
 *
 * @module
 */

import type { RespClient } from "../resp_client.ts";
import { encodeEvent, type EventEncoders } from "../../../core/event.ts";
import type { DebugLog } from "../../../core/debug.ts";
import type { RedisDbRole } from "./keys.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import type { RedisCommand, RedisEncoder } from "./encoders.ts";
import { ReplicaAckError } from "./replica_ack_error.ts";
import { SendWatch } from "./send_watch.ts";
import { withTimeout } from "./with_timeout.ts";

/** What a {@linkcode BatchSender} works with. */
export interface BatchSenderOptions {
  /** The connection of each database. */
  clients: Record<RedisDbRole, RespClient>;
  /** The encoders of the sink. */
  encoders: EventEncoders<RedisEncoder>;
  /** Replicas that must hold each batch (`WAIT`); 0 for none. */
  replicasAck: number;
  /** How long each `WAIT` waits, in ms. */
  replicasAckTimeoutMs: number;
  /** A pipeline without every reply after this long is given up, in ms. */
  commandTimeoutMs: number;
  /** Whether crash and hang events can be encoded yet. */
  reportsLoaded(): boolean;
  /** Load what encodes crash and hang events. */
  loadReports(): Promise<void>;
  /** Events done: delivered. */
  sent(count: number): void;
  /** Events done: rejected for good. */
  dropped(count: number): void;
  /** An event that could not be encoded, or a command Redis rejected. */
  error(): void;
  /** A command Redis rejected for good (not retried). */
  rejected(error: unknown): void;
  /** Debug logger. */
  debug: DebugLog;
}

/** How a batch went: its leading `done` events are done; the rest is retried because of `failure`. */
export interface SendResult {
  /** Leading events delivered or rejected for good. */
  done: number;
  /** Why the rest must be sent again; none when the whole batch is done. */
  failure?: unknown;
}

/** Events written to the master but not yet confirmed by enough replicas (`WAIT`). */
interface _Unconfirmed {
  /** `seq` of the first of them. */
  firstSeq: number;
  /** `seq` of the last of them. */
  lastSeq: number;
  /** How many. */
  count: number;
  /** The connection (socket) of each database that wrote them. */
  streams: Map<RedisDbRole, unknown>;
}

/** Part of a batch's commands for one database, written as one pipeline. */
interface _Chunk {
  db: RedisDbRole;
  pipeline: ReturnType<RespClient["pipeline"]>;
  /** The event of each command (the index in the batch); a `WAIT` has none. */
  owners: number[];
  /** The batch's first event with a command on this database. */
  dbFirst: number;
  /** Whether it ends with `WAIT` (`replicasAck`). */
  waits: boolean;
  /** Its replies, once written. */
  replies?: Promise<[Error | null, unknown][]>;
}

// Commands per pipeline: each is written as soon as it is encoded, so Redis runs one while
// wrapp encodes the next (the writes are in order on one connection: the same as one
// pipeline). One pipeline per batch left Redis and wrapp waiting for each other in turn.
const _CHUNK_COMMANDS = 256;

/** What the replies of a batch's pipelines say. */
interface _Outcome {
  /** Index of the first event to retry (the batch's length when none). */
  cut: number;
  /** Why. */
  failure: unknown;
  /** Anything but replicas too slow: a lost connection, a command to retry. */
  troubled: boolean;
}

// Reply errors worth retrying later: Redis is starting, busy, full, read-only, or we are not let in.
const _RETRYABLE_REPLY =
  /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOAUTH|WRONGPASS|NOPERM|OOM|MISCONF|NOREPLICAS)\b/;

/** Sends batches for one sink, one at a time; see the module documentation. */
export class BatchSender {
  readonly #options: BatchSenderOptions;
  readonly #watch = new SendWatch();
  // replicas_ack: events Redis took that too few replicas confirmed, and on which connections.
  #unconfirmed: _Unconfirmed | undefined;

  /** A sender with `options`. */
  constructor(options: BatchSenderOptions) {
    this.#options = options;
  }

  /**
   * Send a batch as one pipeline per DB. Returns how many leading events are done
   * (delivered, or rejected for good) and, when the rest must be retried, why.
   */
  async send(batch: readonly SpooledEvent[]): Promise<SendResult> {
    const written = this.#unconfirmed;
    this.#unconfirmed = undefined;
    if (written && this.#isUnconfirmed(batch, written)) {
      const failure = await this.#confirm(written);
      if (failure !== undefined) return { done: 0, failure };
      this.#options.sent(written.count);
      if (written.count === batch.length) return { done: written.count };
      const rest = await this.send(batch.slice(written.count));
      return { done: written.count + rest.done, failure: rest.failure };
    }
    return await this.#sendPipelines(batch);
  }

  /** No batch will be sent any more: the timer watching for a hung Redis goes. */
  stop(): void {
    this.#watch.stop();
  }

  async #sendPipelines(batch: readonly SpooledEvent[]): Promise<SendResult> {
    const options = this.#options;
    if (
      !options.reportsLoaded() &&
      batch.some((record) => record.event?.kind === "crash" || record.event?.kind === "hang")
    ) {
      await options.loadReports();
    }
    const { chunks, firstOp, rejected } = await this.#encodeAndWrite(batch);
    const replicas = options.replicasAck;
    const waitMs = options.replicasAckTimeoutMs;
    let stuck: Error | undefined;
    const timeoutMs = options.commandTimeoutMs + (replicas > 0 ? waitMs : 0);
    this.#watch.start(timeoutMs, () => {
      // A hung Redis: reconnecting rejects every command still waiting.
      stuck = new Error(`no reply within ${timeoutMs} ms`);
      for (const db of new Set(chunks.map((chunk) => chunk.db))) {
        options.clients[db].disconnect(true);
      }
    });
    // A pipeline's replies never reject (a command that failed has its error in its pair).
    const replies = chunks.length === 1
      ? [await chunks[0].replies!]
      : await Promise.all(chunks.map((chunk) => chunk.replies!));
    this.#watch.done();
    const { cut, failure, troubled } = this.#readReplies(batch, replies, chunks, firstOp, rejected);
    let given = 0;
    for (const index of rejected.keys()) if (index < cut) given++;
    options.dropped(given);
    options.sent(cut - given);
    if (
      failure instanceof ReplicaAckError && !troubled && given === rejected.size &&
      batch[cut].seq !== undefined && batch.at(-1)!.seq !== undefined
    ) {
      // Every command of the rest went through; only the replicas lag. Next time, on the
      // same connections, asking WAIT again is enough: no second copy in the streams.
      this.#unconfirmed = {
        firstSeq: batch[cut].seq!,
        lastSeq: batch.at(-1)!.seq!,
        count: batch.length - cut,
        streams: new Map(chunks.map(({ db }) => [db, options.clients[db].connection])),
      };
    }
    return { done: cut, failure: failure === undefined ? undefined : stuck ?? failure };
  }

  /**
   * Encode `batch` and write it, a chunk at a time; which event's command came first (its
   * database), and events that cannot be encoded.
   */
  async #encodeAndWrite(batch: readonly SpooledEvent[]): Promise<{
    chunks: _Chunk[];
    firstOp: RedisDbRole[];
    rejected: Map<number, unknown>;
  }> {
    const { clients, replicasAck, replicasAckTimeoutMs } = this.#options;
    const chunks: _Chunk[] = [];
    // Plain objects, not Maps: a batch at 1000 lines/s is one line, and these are per batch.
    const open: Partial<Record<RedisDbRole, _Chunk>> = {};
    // Each database's first event in the batch, the databases in the order they came.
    const dbFirst: Partial<Record<RedisDbRole, number>> = {};
    const dbs: RedisDbRole[] = [];
    const firstOp = new Array<RedisDbRole>(batch.length);
    const rejected = new Map<number, unknown>();
    const chunk = (db: RedisDbRole, owner: number): _Chunk => {
      let current = open[db];
      if (current === undefined) {
        let first = dbFirst[db];
        if (first === undefined) {
          dbFirst[db] = first = owner;
          dbs.push(db);
        }
        current = {
          db,
          pipeline: clients[db].pipeline(),
          owners: [],
          dbFirst: first,
          waits: false,
        };
        open[db] = current;
        chunks.push(current);
      }
      return current;
    };
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      let ops: RedisCommand[];
      try {
        ops = encodeEvent(this.#options.encoders, record.event)(record);
      } catch (error) {
        // A spooled line of the wrong shape (another version, a hand edit): give up on it alone.
        this.#options.error();
        rejected.set(i, error);
        this.#options.debug(`cannot encode ${JSON.stringify(record).slice(0, 200)}: ${error}`);
        continue;
      }
      // No command (a line the go layout drops): nothing can fail, it counts as sent.
      if (ops.length === 0) continue;
      firstOp[i] = ops[0][0];
      let wrote = false;
      for (let k = 0; k < ops.length; k++) {
        const op = ops[k];
        const current = chunk(op[0], i);
        current.pipeline.call(op[1], op, 2); // the arguments follow the DB and the command
        current.owners.push(i);
        if (current.owners.length === _CHUNK_COMMANDS) {
          // Only errors and WAIT's count are read: an XADD's entry id is never decoded.
          current.replies = current.pipeline.exec({ textless: true });
          open[op[0]] = undefined;
          wrote = true;
        }
      }
      // The write starts in a microtask: let it, before encoding the next chunk.
      if (wrote) await null;
    }
    for (const db of dbs) {
      const last = replicasAck > 0 ? chunk(db, dbFirst[db]!) : open[db];
      if (last === undefined) continue; // its last chunk is written already
      if (replicasAck > 0) {
        // WAIT covers every write this connection made before it: all of the batch's.
        last.pipeline.call("WAIT", [replicasAck, replicasAckTimeoutMs]);
        last.waits = true;
      }
      last.replies = last.pipeline.exec({ textless: true });
    }
    return { chunks, firstOp, rejected };
  }

  /** Where the batch must be cut, and why, from every pipeline's replies. */
  #readReplies(
    batch: readonly SpooledEvent[],
    answers: [Error | null, unknown][][],
    chunks: _Chunk[],
    firstOp: RedisDbRole[],
    rejected: Map<number, unknown>,
  ): _Outcome {
    const replicas = this.#options.replicasAck;
    const outcome: _Outcome = { cut: batch.length, failure: undefined, troubled: false };
    answers.forEach((replies, k) => {
      const { db, owners, dbFirst, waits } = chunks[k];
      if (waits) {
        // Fewer replicas than asked hold these writes: a failover now could lose them, so
        // the database's events are not done yet (from its first in the batch).
        const [waitError, acked] = replies[replies.length - 1] ?? [];
        if (waitError || Number(acked) < replicas) {
          if (waitError) outcome.troubled = true;
          if (dbFirst < outcome.cut) {
            outcome.cut = dbFirst;
            outcome.failure = waitError ??
              new ReplicaAckError(Number(acked), replicas, this.#options.replicasAckTimeoutMs);
          }
        }
      }
      replies.forEach(([error], j) => {
        if (j >= owners.length) return; // the WAIT
        if (error === null) return;
        if (_isRetryable(error)) {
          outcome.troubled = true;
          if (owners[j] < outcome.cut) {
            outcome.cut = owners[j];
            outcome.failure = error;
          }
        } else {
          this.#options.error();
          if (firstOp[owners[j]] === db) rejected.set(owners[j], error);
          this.#options.rejected(error);
        }
      });
    });
    return outcome;
  }

  /**
   * Whether `batch` starts with the events of {@linkcode BatchSender.#unconfirmed}, still on
   * the connections that wrote them (a reconnect may have found another master).
   */
  #isUnconfirmed(batch: readonly SpooledEvent[], written: _Unconfirmed): boolean {
    if (batch.length < written.count) return false;
    if (batch[0].seq !== written.firstSeq) return false;
    if (batch[written.count - 1].seq !== written.lastSeq) return false;
    for (const [db, stream] of written.streams) {
      const client = this.#options.clients[db];
      if (client.status !== "ready" || client.connection !== stream) return false;
    }
    return true;
  }

  /** Ask again whether the replicas hold what `written` names; a failure to retry, or none. */
  async #confirm(written: _Unconfirmed): Promise<unknown> {
    const { clients, replicasAck: replicas, replicasAckTimeoutMs: waitMs } = this.#options;
    const dbs = [...written.streams.keys()];
    const timeoutMs = this.#options.commandTimeoutMs + waitMs;
    try {
      const acked = await withTimeout(
        Promise.all(dbs.map((db) => clients[db].call("WAIT", replicas, waitMs))),
        timeoutMs,
        `no reply within ${timeoutMs} ms`,
      );
      const fewest = Math.min(...acked.map(Number));
      if (fewest >= replicas) return undefined;
      this.#unconfirmed = written; // still on these connections: ask again next time
      return new ReplicaAckError(fewest, replicas, waitMs);
    } catch (error) {
      for (const db of dbs) clients[db].disconnect(true);
      return error;
    }
  }
}

function _isRetryable(error: unknown): boolean {
  // Connection-level errors (closed, not writable, timed out) are not ReplyErrors.
  if (!(error instanceof Error) || error.name !== "ReplyError") return true;
  return _RETRYABLE_REPLY.test(error.message);
}
