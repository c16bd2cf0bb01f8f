/**
 * The `wrapp:<name>:control` stream: commands to the supervisor (`restart`, `stop`,
 * `signal <NAME>`), read with XREAD BLOCK on a connection of its own.
 *
 * ```sh
 * redis-cli -n 5 XADD wrapp:robot:control '*' cmd restart
 * redis-cli -n 5 XADD wrapp:robot:control '*' cmd "signal SIGUSR1"
 * ```
 *
 * @module
 */

import type { RespClient } from "../sinks/resp_client.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { connectRedis, describeRedisError, type RedisEndpoint } from "../sinks/redis_connection.ts";
import { parseSignalName } from "../../core/signals.ts";
import { utf8Length } from "../../core/utf8_length.ts";

/** A command the supervisor understands. */
export type ControlCommand =
  | { kind: "restart" }
  | { kind: "stop" }
  | { kind: "signal"; signal: Deno.Signal };

/**
 * What {@linkcode parseControlCommand} makes of an entry. `text` is the command as
 * echoed in status events and messages: whole up to {@linkcode CONTROL_ECHO_BYTES},
 * else cut (see {@linkcode echoControlText}).
 */
export type ParsedControl = { command: ControlCommand; text: string } | {
  error: string;
  text: string;
};

/** How much of a control entry's text is echoed into the status stream, in UTF-8 bytes. */
export const CONTROL_ECHO_BYTES = 256;

/**
 * `text` as wrapp echoes it: whole when it has at most {@linkcode CONTROL_ECHO_BYTES}
 * UTF-8 bytes, else its first ones (on a character boundary) and its size, so that
 * anyone who can write the control stream cannot make wrapp copy megabytes into every
 * status sink: `"restartrestart…… (10485760 bytes)"`.
 */
export function echoControlText(text: string): string {
  if (text.length * 3 <= CONTROL_ECHO_BYTES) return text; // fits whatever the characters
  const head = new Uint8Array(CONTROL_ECHO_BYTES);
  const { read } = new TextEncoder().encodeInto(text, head); // never splits a character
  if (read === text.length) return text;
  return `${text.slice(0, read)}… (${utf8Length(text)} bytes)`;
}

/**
 * Read a control entry's fields (`[name, value, …]`). The command is the value of the
 * `cmd` (or `command`) field, else the entry's only field name or value.
 */
export function parseControlCommand(fields: readonly string[]): ParsedControl {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  const named = pairs.find(([name]) => name === "cmd" || name === "command");
  const whole = (named?.[1] ?? (pairs.length === 1 ? pairs[0][1] || pairs[0][0] : "")).trim();
  const text = echoControlText(whole);
  if (text === "") {
    return { error: 'no command: send a "cmd" field with restart, stop or signal <NAME>', text };
  }
  if (text !== whole) {
    // No command is that long: refused without looking further.
    return { error: "too long for a command: expected restart, stop or signal <NAME>", text };
  }
  const [verb, ...rest] = text.split(/\s+/);
  switch (verb.toLowerCase()) {
    case "restart":
    case "stop":
      if (rest.length > 0) return { error: `"${verb}" takes no argument`, text };
      return { command: { kind: verb.toLowerCase() as "restart" | "stop" }, text };
    case "signal": {
      if (rest.length !== 1) {
        return { error: 'usage: "signal <NAME>", e.g. "signal SIGUSR1"', text };
      }
      const signal = parseSignalName(rest[0]);
      if (!signal) return { error: `unknown signal "${rest[0]}"`, text };
      if (signal === "SIGKILL" || signal === "SIGSTOP") {
        return { error: `${signal} is not allowed: use "stop"`, text };
      }
      return { command: { kind: "signal", signal }, text };
    }
    default:
      return {
        error: `unknown command "${verb}": expected restart, stop or signal <NAME>`,
        text,
      };
  }
}

/** Callbacks of {@linkcode RedisControl}. */
export interface RedisControlHandlers {
  /** A valid command arrived (entry id given for the acknowledgement). */
  onCommand(command: ControlCommand, entry: { id: string; text: string }): void;
  /** An entry that is not a valid command. */
  onReject(reason: string, entry: { id: string; text: string }): void;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** What {@linkcode RedisControl}'s pending reads resolve to once it is closed. */
const _CLOSED: unique symbol = Symbol("closed");

/** Follows the control stream until closed; commands older than the start are ignored. */
export class RedisControl {
  readonly #endpoint: RedisEndpoint;
  readonly #options: { db: number; key: string; name: string } & RedisControlHandlers;
  #client: RespClient | undefined;
  #closed = false;
  #abandon: (() => void) | undefined;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;

  /**
   * Start following `key` in `db`. Returns at once: while Redis is unreachable the
   * connection is retried every few seconds, so a Redis that is down at start does not
   * leave the supervisor deaf to commands.
   */
  constructor(
    endpoint: RedisEndpoint,
    options: { db: number; key: string; name: string } & RedisControlHandlers,
  ) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#loop = this.#follow();
  }

  /** Whether the control connection is up. */
  get connected(): boolean {
    return this.#client?.status === "ready";
  }

  /**
   * Stop following and close the connection. Returns at once, also while Redis is
   * unreachable: the pending XREAD is abandoned, not awaited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abandon?.();
    this.#client?.disconnect();
    this.#wake?.();
    await this.#loop;
  }

  /**
   * `promise`, or {@linkcode _CLOSED} as soon as {@linkcode RedisControl.close} is called.
   * A blocking XREAD on a connection that is being reconnected may settle late: close()
   * does not wait for it.
   */
  #unlessClosed<T>(promise: Promise<T>): Promise<T | typeof _CLOSED> {
    promise.catch(() => {}); // an abandoned command may still fail later: not unhandled
    if (this.#closed) return Promise.resolve(_CLOSED);
    // Not Promise.race with one long-lived promise: that would keep a reaction per read.
    return new Promise((resolve, reject) => {
      this.#abandon = () => resolve(_CLOSED);
      promise.then(resolve, reject);
    });
  }

  async #follow(): Promise<void> {
    const debug = this.#options.debug ?? silentDebug;
    const { db, key, name } = this.#options;
    let lastId: string | undefined;
    while (!this.#closed) {
      try {
        if (!this.#client) {
          const connecting = connectRedis(this.#endpoint, { db, name: `${name}:control` });
          // Closed while connecting: the client that arrives later is not used, close it too.
          connecting.then((client) => this.#closed && client.disconnect(), () => {});
          const client = await this.#unlessClosed(connecting);
          if (client === _CLOSED) break;
          this.#client = client;
        }
        // Start after the newest entry that exists now: old commands are not replayed.
        if (lastId === undefined) {
          const newest = await this.#unlessClosed(
            this.#client.xrevrange(key, "+", "-", "COUNT", 1),
          );
          if (newest === _CLOSED) break;
          lastId = newest[0]?.[0] ?? "0-0";
        }
        // BLOCK 0: wait for the next command without waking up; close() abandons it.
        const reply = await this.#unlessClosed(
          this.#client.xread("BLOCK", 0, "STREAMS", key, lastId),
        );
        if (reply === _CLOSED) break;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const parsed = parseControlCommand(fields);
            if ("command" in parsed) {
              this.#options.onCommand(parsed.command, { id, text: parsed.text });
            } else {
              this.#options.onReject(parsed.error, { id, text: parsed.text });
            }
          }
        }
      } catch (error) {
        if (this.#closed) break;
        debug(`control stream ${key}: ${describeRedisError(error)}; retrying in 2 s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
