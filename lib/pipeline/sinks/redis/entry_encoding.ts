/**
 * The commands the Redis sink's encoders are made of: one `XADD` per stream entry, with
 * the fields every entry has, and the DB each command goes to.
 *
 * @module
 */

import type { RedisKeys } from "./keys.ts";
import type { RedisDbRole } from "./keys.ts";
import type { RespArg } from "../resp_protocol.ts";
import type { SpooledEvent } from "./spooled_event.ts";

/**
 * One command for Redis: the DB it goes to, the command name and its arguments (a number
 * is sent in decimal, written as digits without a string of it).
 */
export type RedisCommand = readonly [RedisDbRole, string, ...RespArg[]];

/** A command still being built: fields are pushed onto it. */
export type RedisCommandDraft = [RedisDbRole, string, ...RespArg[]];

/** What every encoder needs: the keys and the values written into every entry. */
export interface EntryContext {
  /** The keys of the service. */
  keys: RedisKeys;
  /** The `MAXLEN ~` of every `XADD`, as sent. */
  maxLen: string;
  /** Host name written in every entry and in the state hash. */
  hostname: string;
  /** Version written in the state hash. */
  version: string;
  /** Entries in the Go wrapp's layout. */
  go: boolean;
  /** In the go layout, remove markers from the text. */
  removeMarkers: boolean;
}

// Where an XADD holds the values of run, pid and host.
export const OVERRIDABLE_FIELDS: ReadonlyMap<string, number> = new Map([
  ["run", 12],
  ["pid", 14],
  ["host", 16],
]);
// Status and crash fields that would shadow an entry's own fields are written as `field_<name>`.
const _RESERVED = new Set(["message", "ts", "phase", "detail", "separator", "output", "seq"]);

/** `name`, or `field_<name>` when it would shadow one of an entry's own fields. */
export function entryFieldName(name: string): string {
  return _RESERVED.has(name) ? `field_${name}` : name;
}

/** `XADD key MAXLEN ~ n * message text ts … run … pid … host … [seq …]` for `record`. */
export function xadd(
  context: EntryContext,
  key: string,
  text: string,
  time: number,
  record: SpooledEvent,
): RedisCommandDraft {
  // One literal of the final length, the seq pair cut when there is none: a push would copy
  // the array into a larger one, for every line.
  const op: RedisCommandDraft = [
    "logs",
    "XADD",
    key,
    "MAXLEN",
    "~",
    context.maxLen,
    "*",
    "message",
    text,
    "ts",
    Math.floor(time),
    "run",
    record.run,
    "pid",
    record.pid,
    "host",
    context.hostname,
    "seq",
    record.seq ?? 0,
  ];
  if (record.seq === undefined) op.length -= 2;
  return op;
}
