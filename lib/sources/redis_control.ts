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

import type { Redis } from "ioredis";
import { type DebugLog, silentDebug } from "../debug.ts";
import { connectRedis, describeRedisError, type RedisEndpoint } from "../sinks/redis_connection.ts";
import { parseSignalName } from "../supervise/signals.ts";

/** A command the supervisor understands. */
export type ControlCommand =
  | { kind: "restart" }
  | { kind: "stop" }
  | { kind: "signal"; signal: Deno.Signal };

/** What {@linkcode parseControlCommand} makes of an entry. */
export type ParsedControl = { command: ControlCommand; text: string } | {
  error: string;
  text: string;
};

/**
 * Read a control entry's fields (`[name, value, …]`). The command is the value of the
 * `cmd` (or `command`) field, else the entry's only field name or value.
 */
export function parseControlCommand(fields: readonly string[]): ParsedControl {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  const named = pairs.find(([name]) => name === "cmd" || name === "command");
  const text = (named?.[1] ?? (pairs.length === 1 ? pairs[0][1] || pairs[0][0] : "")).trim();
  if (text === "") {
    return { error: 'no command: send a "cmd" field with restart, stop or signal <NAME>', text };
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

/** Follows the control stream until closed; commands older than the start are ignored. */
export class RedisControl {
  readonly #endpoint: RedisEndpoint;
  readonly #options: { db: number; key: string; name: string } & RedisControlHandlers;
  #client: Redis | undefined;
  #closed = false;
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

  /** Stop following and close the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#client?.disconnect();
    this.#wake?.();
    await this.#loop;
  }

  async #follow(): Promise<void> {
    const debug = this.#options.debug ?? silentDebug;
    const { db, key, name } = this.#options;
    let lastId: string | undefined;
    while (!this.#closed) {
      try {
        this.#client ??= await connectRedis(this.#endpoint, { db, name: `${name}:control` });
        if (this.#closed) break;
        // Start after the newest entry that exists now: old commands are not replayed.
        lastId ??= (await this.#client.xrevrange(key, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0";
        // BLOCK 0: wait for the next command without waking up; close() disconnects to end it.
        const reply = await this.#client.xread("BLOCK", 0, "STREAMS", key, lastId);
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
