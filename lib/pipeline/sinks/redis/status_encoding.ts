/**
 * How the Redis sink writes a status event: its `:status` entry (in the go layout, with
 * the Go wrapp's run separators around a start and an exit) and the state hash it changes.
 *
 * @module
 */

import type { StatusEvent } from "../../../core/event.ts";
import { goEndRun, goExitCode, goExitLine, goNewRun } from "../go_layout.ts";
import {
  type EntryContext,
  entryFieldName,
  OVERRIDABLE_FIELDS,
  type RedisCommand,
  type RedisCommandDraft,
  xadd,
} from "./entry_encoding.ts";
import type { SpooledEvent } from "./spooled_event.ts";

// Status phases that change the state hash, and the `status` they set.
const _STATE_OF_PHASE: Partial<Record<StatusEvent["phase"], string>> = {
  start: "running",
  restart: "restarting",
  exit: "exited",
};

/** The commands for a status event: its entries, then the state hash. */
export function encodeStatus(
  context: EntryContext,
  event: StatusEvent,
  record: SpooledEvent,
): RedisCommand[] {
  const { keys, go } = context;
  const ops: RedisCommand[] = [];
  const code = go && event.phase === "exit" ? goExitCode(event.fields) : undefined;
  if (go && event.phase === "start") {
    // Go's separator is the entry's message; ours rides along as `detail`.
    const text = goNewRun(event.time);
    ops.push(_separator(context, keys.info, text, event, record));
    const op = _separator(context, keys.status, text, event, record);
    op.push("phase", event.phase, "detail", event.message);
    _addFields(op, event);
    ops.push(op);
  } else if (code !== undefined) {
    const op = _statusXadd(context, keys.status, goExitLine(code), event, record);
    op.push("phase", event.phase, "detail", event.message);
    _addFields(op, event);
    const text = goEndRun(event.time, code);
    ops.push(op, _separator(context, keys.status, text, event, record));
    ops.push(_separator(context, keys.info, text, event, record));
  } else {
    const op = _statusXadd(context, keys.status, event.message, event, record);
    op.push("phase", event.phase);
    _addFields(op, event);
    ops.push(op);
  }
  // The service's own STATUS= text (systemd notify), for `wrapp ps`; a new run starts without.
  const statusText = event.fields.status_text;
  if (statusText !== undefined) {
    ops.push(["state", "HSET", keys.state, "status_text", String(statusText)]);
  } else if (event.phase === "start") ops.push(["state", "HDEL", keys.state, "status_text"]);
  ops.push(..._stateOf(context, event, record));
  return ops;
}

// The run, pid and host a status event names itself win over the record's (the exit of
// a run is reported once the child is gone, when the record's pid is 0).
function _statusXadd(
  context: EntryContext,
  key: string,
  text: string,
  event: StatusEvent,
  record: SpooledEvent,
): RedisCommandDraft {
  const op = xadd(context, key, text, event.time, record);
  for (const [name, at] of OVERRIDABLE_FIELDS) {
    const value = event.fields[name];
    if (value !== undefined) op[at] = String(value);
  }
  return op;
}

function _separator(
  context: EntryContext,
  key: string,
  text: string,
  event: StatusEvent,
  record: SpooledEvent,
): RedisCommandDraft {
  const op = _statusXadd(context, key, text, event, record);
  op.push("separator", event.phase === "start" ? "new_run" : "end_run");
  return op;
}

function _addFields(op: RedisCommandDraft, event: StatusEvent): void {
  for (const [name, value] of Object.entries(event.fields)) {
    if (OVERRIDABLE_FIELDS.has(name)) continue;
    op.push(entryFieldName(name), String(value));
  }
}

/** The state hash a start, restart or exit sets; nothing for other phases. */
function _stateOf(
  context: EntryContext,
  event: StatusEvent,
  record: SpooledEvent,
): RedisCommand[] {
  const status = _STATE_OF_PHASE[event.phase];
  if (status === undefined) return [];
  const { keys } = context;
  const fields = event.fields;
  const state: RedisCommandDraft = [
    "state",
    "HSET",
    keys.state,
    "pid",
    String(fields.pid ?? record.pid),
    "run",
    String(fields.run ?? record.run),
    "status",
    status,
    "version",
    String(fields.version ?? context.version),
    "host",
    String(fields.host ?? context.hostname),
    "heartbeat",
    String(Math.floor(event.time)),
  ];
  if (event.phase === "start") state.push("started", String(Math.floor(event.time)));
  for (const name of ["restarts", "exit_code", "signal"]) {
    if (fields[name] !== undefined) state.push(name, String(fields[name]));
  }
  if (event.phase !== "exit") return [state];
  // The latest run's end alone (`wrapp ps --redis` shows it): when, and not a former
  // run's exit code beside this run's signal, or the other way round.
  state.push("exited", String(Math.floor(event.time)));
  const other = fields.signal !== undefined ? "exit_code" : "signal";
  return [["state", "HDEL", keys.state, other], state];
}
