/**
 * What wrapp's Redis client sends on a new connection before it calls itself ready: AUTH,
 * CLIENT SETNAME, SELECT (and ROLE with Sentinels) in one round trip, then the ready check
 * that waits out a Redis still loading its data set.
 *
 * @module
 */

import type { RespClientOptions } from "./resp_client.ts";
import type { RespArg, RespReply } from "./resp_protocol.ts";
import type { RespPipeline } from "./resp_pipeline.ts";
import { isLoading } from "./resp_errors.ts";

// How often the ready check asks a Redis that is loading its data set again, in ms.
const _LOADING_RETRY_MS = 100;

/** The new connection a {@linkcode handshake} talks on. */
export interface HandshakeConnection {
  /** A pipeline that sends on the connection although it is not ready yet. */
  pipeline(): RespPipeline;
  /** Whether the connection is still the client's current one (no disconnect() since). */
  current(): boolean;
  /** The server of the connection (with Sentinels, the master they named). */
  address(): { host: string; port: number } | undefined;
}

/**
 * AUTH, CLIENT SETNAME, SELECT (and ROLE) in one round trip, the first error reply fails
 * it; then the ready check, a PING in the same round trip: a Redis still loading its
 * data set (after a restart) takes these commands but answers every write `LOADING`
 * until it is done, and a pipeline sent then can have its first commands refused and
 * the rest applied (out of order when retried). So the client is not ready before PING
 * is answered without `LOADING`, as ioredis's ready check waits for `loading:0`.
 */
export async function handshake(
  options: RespClientOptions,
  connection: HandshakeConnection,
): Promise<void> {
  const { username, password, connectionName, db } = options;
  const commands: [string, RespArg[]][] = [];
  if (password !== undefined) {
    commands.push(["AUTH", username !== undefined ? [username, password] : [password]]);
  }
  if (connectionName) commands.push(["CLIENT", ["SETNAME", connectionName]]);
  if (db) commands.push(["SELECT", [db]]);
  const sentinel = !!options.sentinels?.length;
  if (sentinel) commands.push(["ROLE", []]);
  commands.push(["PING", []]);
  const replies = await _call(connection, commands);
  for (const [k, [error]] of replies.slice(0, -1).entries()) {
    if (error === null) continue;
    // AUTH to a server without a password: ioredis goes on, and so does this.
    if (
      k === 0 && password !== undefined && /no password is set|without any password/i.test(
        error.message,
      )
    ) continue;
    throw error;
  }
  const role = replies.at(-2)?.[1];
  if (sentinel && !(Array.isArray(role) && role[0] === "master")) {
    const address = connection.address();
    throw new Error(
      `the Sentinels named ${address?.host}:${address?.port}, which is not a master`,
    );
  }
  let [pingError] = replies.at(-1)!;
  while (isLoading(pingError)) {
    await new Promise((resolve) => setTimeout(resolve, _LOADING_RETRY_MS));
    if (!connection.current()) throw new Error("Connection is closed.");
    [[pingError]] = await _call(connection, [["PING", []]]);
  }
  // Any other PING error (NOAUTH without a password): ready as before, commands tell it.
}

/** Send `commands` before the connection is ready; their `[error, reply]` pairs. */
function _call(
  connection: HandshakeConnection,
  commands: [string, RespArg[]][],
): Promise<[Error | null, RespReply][]> {
  const pipeline = connection.pipeline();
  for (const [command, args] of commands) pipeline.call(command, args);
  return pipeline.exec();
}
