/**
 * The errors of wrapp's Redis client that are not replies: a connection not ready, lost,
 * refused or timed out, worded and coded as ioredis words them (the sink's messages are
 * chosen by their `code`).
 *
 * @module
 */

import { RespReplyError } from "./resp_protocol.ts";
import { startTimer, type Timer } from "../../core/timers.ts";

/** A command sent while the connection is not ready (ioredis's words, offline queue off). */
export function notWritable(): Error {
  return new Error("Stream isn't writeable and enableOfflineQueue options is false");
}

/** Whether `error` is Redis's `LOADING Redis is loading the dataset in memory`. */
export function isLoading(error: Error | null): boolean {
  return error instanceof RespReplyError && error.message.startsWith("LOADING");
}

/** Whether `error` says that no Sentinel named a master. */
export function isSentinelError(error: Error): boolean {
  return error.message.startsWith("All sentinels are unreachable");
}

/** Deno's connection errors with the errno names the messages are chosen by. */
export function connectionError(error: unknown): Error {
  if (error instanceof RespReplyError) return error;
  const failure = error instanceof Error ? error : new Error(String(error));
  const withCode = failure as { code?: string };
  if (withCode.code === undefined && /failed to lookup address/i.test(failure.message)) {
    withCode.code = "ENOTFOUND";
  }
  return failure;
}

/** `connecting`, or an `ETIMEDOUT` error after `ms` (a connection that comes later is closed). */
export function connectWithTimeout<T extends Deno.Conn>(
  connecting: Promise<T>,
  ms: number,
): Promise<T> {
  let timer: Timer | undefined;
  return Promise.race([
    connecting,
    new Promise<never>((_, reject) => {
      timer = startTimer(() => {
        // The connection may still come: close it then.
        connecting.then((conn) => conn.close(), () => {});
        const error = new Error(`connect ETIMEDOUT`);
        (error as { code?: string }).code = "ETIMEDOUT";
        reject(error);
      }, ms);
    }),
  ]).finally(() => timer?.clear());
}
