/**
 * Asking Redis Sentinels for the address of a master, as wrapp's Redis client does at
 * every (re)connection when it has Sentinels.
 *
 * @module
 */

import type { RespClientOptions } from "./resp_client.ts";
import { type RespReply, RespReplyError } from "./resp_protocol.ts";
import { connectionError } from "./resp_errors.ts";

/** The part of a client {@linkcode askSentinels} uses to talk to one Sentinel. */
export interface SentinelConnection {
  /** Connect (and authenticate). */
  connect(): Promise<void>;
  /** Send one command. */
  call(command: string, ...args: (string | number)[]): Promise<RespReply>;
  /** Close. */
  disconnect(): void;
}

/**
 * The address of `options.masterName` from the first of `options.sentinels` that knows
 * it, each reached with a connection from `open`. When none does, an error worded as
 * ioredis words it ("All sentinels are unreachable. Last error: …", without the last error
 * when the Sentinels answered but know no master of that name), so messages read the same
 * whichever client met it.
 */
export async function askSentinels(
  options: RespClientOptions,
  open: (options: RespClientOptions) => SentinelConnection,
): Promise<{ host: string; port: number }> {
  const { sentinels = [], masterName = "", tls, connectTimeout } = options;
  let lastError: Error | undefined;
  for (const sentinel of sentinels) {
    const client = open({
      ...sentinel,
      username: options.sentinelUsername,
      password: options.sentinelPassword,
      tls,
      connectTimeout,
    });
    try {
      await client.connect();
      const reply = await client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName);
      if (Array.isArray(reply) && reply.length === 2) {
        return { host: String(reply[0]), port: Number(reply[1]) };
      }
      lastError = undefined; // it answered, and knows no such master (older Sentinels: nil)
    } catch (error) {
      // Redis 7 answers an unknown name with an error reply.
      const unknown = error instanceof RespReplyError && /No such master/i.test(error.message);
      lastError = unknown ? undefined : connectionError(error);
    } finally {
      client.disconnect();
    }
  }
  const code = (lastError as { code?: string } | undefined)?.code;
  return Promise.reject(
    new Error(
      lastError === undefined
        ? "All sentinels are unreachable."
        : `All sentinels are unreachable. Last error: ${
          code ? `${code} ` : ""
        }${lastError.message}`,
    ),
  );
}
