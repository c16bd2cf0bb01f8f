/**
 * {@linkcode RespPipeline}: commands written to Redis together, answered in order.
 *
 * @module
 */

import { type RespArg, respCommandText, type RespReply, RespReplyError } from "./resp_protocol.ts";
import { notWritable } from "./resp_errors.ts";

/** Who waits for one reply: resolved with it, or rejected when the connection fails. */
export type RespWaiter = { resolve: (reply: RespReply) => void; reject: (error: Error) => void };

const _encoder = new TextEncoder();

/**
 * Commands written together: `call()` each, then `exec()` resolves with one
 * `[error, reply]` pair per command, in order (ioredis's shape). A command that could not
 * be sent or whose connection closed has a connection error; an error reply a
 * {@linkcode RespReplyError}.
 */
export class RespPipeline {
  readonly #send: (bytes: Uint8Array, waiters: RespWaiter[]) => boolean;
  #parts: string[] = [];
  #count = 0;

  /** A pipeline whose `exec()` hands its bytes and reply waiters to `send`. */
  constructor(send: (bytes: Uint8Array, waiters: RespWaiter[]) => boolean) {
    this.#send = send;
  }

  /** Add `command args…`. */
  call(command: string, args: readonly RespArg[]): this {
    this.#parts.push(respCommandText(command, args));
    this.#count++;
    return this;
  }

  /** Send every command; see the class documentation. */
  exec(): Promise<[Error | null, RespReply][]> {
    const results: Promise<[Error | null, RespReply]>[] = [];
    const waiters: RespWaiter[] = [];
    for (let k = 0; k < this.#count; k++) {
      results.push(
        new Promise<RespReply>((resolve, reject) => waiters.push({ resolve, reject })).then(
          (reply): [Error | null, RespReply] =>
            reply instanceof RespReplyError ? [reply, null] : [null, reply],
          (error: Error): [Error | null, RespReply] => [error, null],
        ),
      );
    }
    const bytes = _encoder.encode(this.#parts.join(""));
    this.#parts = [];
    if (!this.#send(bytes, waiters)) {
      const error = notWritable();
      for (const waiter of waiters) waiter.reject(error);
    }
    return Promise.all(results);
  }
}
