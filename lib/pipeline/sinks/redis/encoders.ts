/**
 * The Redis sink's encoders: for each kind of event, the commands (with their DB) that
 * write one queued event, in the entry layout of the sink's options (see ../redis.ts).
 *
 * @module
 */

import type {
  AnomalyEvent,
  CrashEvent,
  EventEncoders,
  HangEvent,
  LogEvent,
  SyscallEvent,
} from "../../../core/event.ts";
import type { RedisLayout } from "../../../core/config/config.ts";
import { goLineText } from "../go_layout.ts";
import { type RedisKeys, redisKeys } from "./keys.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import {
  type EntryContext,
  entryFieldName,
  type RedisCommand,
  type RedisCommandDraft,
  xadd,
} from "./entry_encoding.ts";
import { encodeStatus } from "./status_encoding.ts";

export type { RedisCommand } from "./entry_encoding.ts";

/** The commands for one queued event; none when the layout writes nothing for it. */
export type RedisEncoder = (record: SpooledEvent) => RedisCommand[];

/** Options of the sink's encoders (`redisEncoders` of ../redis.ts). */
export interface RedisEncoderOptions {
  /** The `MAXLEN ~` of every `XADD`. */
  maxLen: number;
  /** Host name written in every entry and in the state hash. */
  hostname: string;
  /** Version written in the state hash. */
  version: string;
  /** The entry layout; see `RedisSinkOptions.layout`. Default `"wrapp"`. */
  layout?: RedisLayout;
  /** In the `go` layout, remove Go-grammar markers from the text. Default `true`. */
  removeMarkers?: boolean;
}

/**
 * The extra fields of crash and hang entries, from modules loaded only when a crash or a
 * hang is to be encoded: each getter returns `undefined` until then.
 */
export interface ReportFields {
  /** The fields of a crash report's entry. */
  crash(): ((event: CrashEvent) => Record<string, string>) | undefined;
  /** The fields of a hang report's entry. */
  hang(): ((event: HangEvent) => Record<string, string>) | undefined;
}

/** One encoder per event kind, in `options.layout`, with crash and hang fields from `reports`. */
export function redisEncodersWith(
  keys: RedisKeys,
  options: RedisEncoderOptions,
  reports: ReportFields,
): EventEncoders<RedisEncoder> {
  const context: EntryContext = {
    keys,
    maxLen: String(options.maxLen),
    hostname: options.hostname,
    version: options.version,
    go: options.layout === "go",
    removeMarkers: options.removeMarkers !== false,
  };
  return {
    log: (event) => (record) => _encodeLog(context, event, record),
    status: (event) => (record) => encodeStatus(context, event, record),
    metric: (event) => () => [
      event.op === "incr"
        ? ["values", "INCR", keys.value(event.name)]
        : ["values", "SET", keys.value(event.name), event.value],
    ],
    crash: (event) => (record) => {
      const op = xadd(context, keys.crash, event.summary, event.time, record);
      const fields = reports.crash();
      if (fields === undefined) {
        throw new Error("crash events cannot be encoded before loadCrashEncoding()");
      }
      _pushReportFields(op, fields(event));
      return [op];
    },
    // Hangs go where crashes go, told apart by kind = hang.
    hang: (event) => (record) => {
      const op = xadd(context, keys.crash, event.summary, event.time, record);
      const fields = reports.hang();
      if (fields === undefined) {
        throw new Error("hang events cannot be encoded before loadCrashEncoding()");
      }
      _pushReportFields(op, fields(event));
      return [op];
    },
    syscall: (event) => (record) => _encodeSyscall(context, event, record),
    anomaly: (event) => (record) => _encodeAnomaly(context, event, record),
    tef: (event) => (record) => [
      xadd(
        context,
        redisKeys(event.stream).trace,
        event.json ?? JSON.stringify(event.event),
        event.time,
        record,
      ),
    ],
  };
}

function _encodeLog(context: EntryContext, event: LogEvent, record: SpooledEvent): RedisCommand[] {
  const { keys, go } = context;
  let key = event.stream === "stderr" ? keys.error : keys.info;
  let text = event.text;
  if (go) {
    // The Go wrapp logged both outputs to :info, markers removed, trimmed, empty lines dropped.
    key = keys.info;
    text = goLineText(text, { removeMarkers: context.removeMarkers, split: event.split });
    if (text === "") return [];
  }
  const op = xadd(context, key, text, event.time, record);
  if (go && event.stream === "stderr") op.push("output", "stderr");
  if (event.split) op.push("part", String(event.split.part), "last", String(event.split.last));
  if (event.lines !== undefined) op.push("lines", String(event.lines));
  if (event.unterminated !== undefined) op.push("unterminated", event.unterminated);
  return [op];
}

function _pushReportFields(op: RedisCommandDraft, fields: Record<string, string>): void {
  for (const [name, value] of Object.entries(fields)) op.push(entryFieldName(name), value);
}

// Summaries to the trace stream; per-interval counts only as counters (DB 2).
function _encodeSyscall(
  context: EntryContext,
  event: SyscallEvent,
  record: SpooledEvent,
): RedisCommand[] {
  const { keys } = context;
  if (event.scope === "interval") {
    return [
      ["values", "INCRBY", keys.value("syscalls"), String(event.calls)],
      ["values", "INCRBY", keys.value("syscall_errors"), String(event.errors)],
    ];
  }
  const top = event.rows.slice(0, 5).map((row) => `${row.name} ${row.calls}`).join(", ");
  const op = xadd(
    context,
    keys.trace,
    `syscall summary: ${event.calls} calls, ${event.errors} errors${top ? `; top: ${top}` : ""}`,
    event.time,
    record,
  );
  op.push(
    "kind",
    "syscall_summary",
    "calls",
    String(event.calls),
    "errors",
    String(event.errors),
    "total_ns",
    String(event.totalNs),
    "lost_events",
    String(event.lostEvents),
    "rows",
    JSON.stringify(event.rows.slice(0, 50)),
  );
  return [op];
}

function _encodeAnomaly(
  context: EntryContext,
  event: AnomalyEvent,
  record: SpooledEvent,
): RedisCommand[] {
  const z = event.zScore === null ? "" : `, z ${event.zScore.toFixed(1)}`;
  const op = xadd(
    context,
    context.keys.trace,
    `anomaly: ${event.syscall} took ${
      (event.latencyNs / 1e6).toFixed(3)
    } ms${z} in thread ${event.tid} (${event.comm})`,
    event.time,
    record,
  );
  op.push(
    "kind",
    "anomaly",
    "syscall",
    event.syscall,
    "tid",
    String(event.tid),
    "comm",
    event.comm,
    "latency_ns",
    String(event.latencyNs),
    "reasons",
    event.reasons.join(","),
  );
  if (event.zScore !== null) op.push("z_score", event.zScore.toFixed(2));
  if (event.errno !== undefined) op.push("errno", event.errno);
  return [op];
}
