/**
 * {@linkcode RespPipeline}: commands written to Redis together, answered in order.
 *
 * @module
 */

import { type RespArg, type RespReply, RespReplyError } from "./resp_protocol.ts";
import { RespCommandWriter } from "./resp_writer.ts";
import { notWritable } from "./resp_errors.ts";

/**
 * Who waits for one reply: resolved with it, or rejected when the connection fails. A
 * `textless` waiter wants no string reply's text (an XADD's entry id): it gets `""`, and
 * the text is never decoded.
 */
export type RespWaiter = {
  resolve: (reply: RespReply) => void;
  reject: (error: Error) => void;
  readonly textless?: boolean;
};

/** What {@linkcode RespPipeline.exec} is asked for. */
export interface RespExecOptions {
  /** Replies that are strings come as `""` (errors and numbers as they are). */
  textless?: boolean;
}

/**
 * Commands written together: `call()` each, then `exec()` resolves with one
 * `[error, reply]` pair per command, in order (ioredis's shape). A command that could not
 * be sent or whose connection closed has a connection error; an error reply a
 * {@linkcode RespReplyError}.
 */
export class RespPipeline {
  readonly #send: (bytes: Uint8Array, waiters: RespWaiter[]) => boolean;
  readonly #writer = new RespCommandWriter();
  #count = 0;

  /** A pipeline whose `exec()` hands its bytes and reply waiters to `send`. */
  constructor(send: (bytes: Uint8Array, waiters: RespWaiter[]) => boolean) {
    this.#send = send;
  }

  /** Add `command args[from]…` (`from` spares a caller the copy of a longer array's tail). */
  call(command: string, args: readonly RespArg[], from = 0): this {
    this.#writer.command(command, args, from);
    this.#count++;
    return this;
  }

  /** Send every command; see the class documentation. */
  exec(options: RespExecOptions = {}): Promise<[Error | null, RespReply][]> {
    // One promise for the pipeline, not two per command: at 100k lines/s the per-command
    // promises were the sender's largest cost.
    const replies = new _Replies(this.#count);
    const waiters = new Array<RespWaiter>(this.#count);
    const textless = options.textless === true;
    for (let k = 0; k < this.#count; k++) waiters[k] = new _Waiter(replies, k, textless);
    const bytes = this.#writer.take();
    if (!this.#send(bytes, waiters)) {
      const error = notWritable();
      for (const waiter of waiters) waiter.reject(error);
    }
    return replies.all;
  }
}

/** The `[error, reply]` pairs of one pipeline, resolved once every command has one. */
class _Replies {
  readonly pairs: [Error | null, RespReply][];
  readonly all: Promise<[Error | null, RespReply][]>;
  readonly #resolve: (pairs: [Error | null, RespReply][]) => void;
  #left: number;

  constructor(count: number) {
    this.pairs = new Array(count);
    this.#left = count;
    const { promise, resolve } = Promise.withResolvers<[Error | null, RespReply][]>();
    this.all = promise;
    this.#resolve = resolve;
    if (count === 0) resolve(this.pairs);
  }

  settle(index: number, pair: [Error | null, RespReply]): void {
    if (this.pairs[index] !== undefined) return; // answered already
    this.pairs[index] = pair;
    if (--this.#left === 0) this.#resolve(this.pairs);
  }
}

// Every textless string reply's pair: one array, not one per command.
const _TEXTLESS_PAIR: [null, RespReply] = [null, ""];

/** Waits for the reply to command `index` of a pipeline. */
class _Waiter implements RespWaiter {
  readonly #replies: _Replies;
  readonly #index: number;
  readonly textless: boolean;

  constructor(replies: _Replies, index: number, textless: boolean) {
    this.#replies = replies;
    this.#index = index;
    this.textless = textless;
  }

  resolve(reply: RespReply): void {
    this.#replies.settle(
      this.#index,
      reply instanceof RespReplyError
        ? [reply, null]
        : this.textless && reply === ""
        ? _TEXTLESS_PAIR
        : [null, reply],
    );
  }

  reject(error: Error): void {
    this.#replies.settle(this.#index, [error, null]);
  }
}
