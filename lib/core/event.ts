/**
 * The one data type that flows from sources through transforms to sinks.
 *
 * `Event` is a union discriminated on `kind`. Every sink encodes every kind through an
 * {@linkcode EventEncoders} object, so adding a kind here fails type checking in each
 * sink until it is handled.
 *
 * @module
 */

import type { EventBase } from "./events/event_base.ts";
import type { CrashEvent } from "./events/crash.ts";
import type { HangEvent } from "./events/hang.ts";
import type { AnomalyEvent, SyscallEvent } from "./events/syscall.ts";

export type { EventBase };
export type { StackFrame, StackThread } from "./events/stack.ts";
export type {
  CoreSource,
  CrashCore,
  CrashFrame,
  CrashReport,
  CrashSource,
  CrashThread,
} from "./events/crash.ts";
export type { HangInfo, HangReason, HangReport } from "./events/hang.ts";
export type { SyscallRow } from "./events/syscall.ts";

/**
 * Which output of the child a line came from.
 *
 * @example The stream a line came from
 * ```ts
 * import type { OutputStream } from "@wrapp/wrapp";
 *
 * const stream: OutputStream = "stderr";
 * ```
 */
export type OutputStream = "stdout" | "stderr";

/**
 * One line (or one multi-line block) the service printed.
 *
 * @example A line the service printed
 * ```ts
 * import { type LogEvent, now } from "@wrapp/wrapp";
 *
 * const line: LogEvent = { kind: "log", time: now(), stream: "stdout", text: "listening" };
 * ```
 */
export interface LogEvent extends EventBase {
  readonly kind: "log";
  readonly stream: OutputStream;
  /** The text, without the trailing newline; invalid UTF-8 bytes appear as `\xNN`. */
  readonly text: string;
  /** Set when a line longer than `max_line_bytes` was cut: 1-based part number, and whether it is the last part. */
  readonly split?: { readonly part: number; readonly last: boolean };
  /** Set for a multi-line block: how many lines it joined. */
  readonly lines?: number;
  /** Set when a multi-line block was flushed before its closing delimiter, with the limit that forced it. */
  readonly unterminated?: "lines" | "bytes" | "time" | "exit";
}

/** What a status event reports. */
export type StatusPhase = "start" | "exit" | "restart" | "info" | "warning";

/**
 * Supervisor life-cycle: run start and end, sink trouble, drops.
 *
 * @example The service started
 * ```ts
 * import { now, type StatusEvent } from "@wrapp/wrapp";
 *
 * const started: StatusEvent = {
 *   kind: "status",
 *   time: now(),
 *   phase: "start",
 *   message: "started pid 4242",
 *   fields: { pid: 4242 },
 * };
 * ```
 */
export interface StatusEvent extends EventBase {
  readonly kind: "status";
  readonly phase: StatusPhase;
  /** One human-readable line. */
  readonly message: string;
  /** Structured details (run id, pid, exit code, duration…). */
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A `{{name}}` or `{{name:value}}` marker found in the service's output, or a value wrapp
 * measured itself (`cpu_pct`, `rss_bytes`… of the metrics sampler, op `set`, no `stream`).
 *
 * @example The marker {{queue:12}} in a stdout line
 * ```ts
 * import { type MetricEvent, now } from "@wrapp/wrapp";
 *
 * const queue: MetricEvent = {
 *   kind: "metric",
 *   time: now(),
 *   name: "queue",
 *   op: "set",
 *   value: "12",
 *   numeric: 12,
 *   stream: "stdout",
 * };
 * ```
 */
export interface MetricEvent extends EventBase {
  readonly kind: "metric";
  readonly name: string;
  /** `incr` for `{{name}}`, `set` for `{{name:value}}`. */
  readonly op: "incr" | "set";
  /** The value as written (`"1"` for an increment). */
  readonly value: string;
  /** Counter total after an increment, or the value as a number when it is numeric. */
  readonly numeric?: number;
  /** Which output the marker appeared in; absent for a value wrapp measured. */
  readonly stream?: OutputStream;
}

/**
 * A Trace Event Format event that arrived ready-made: collected from a client by
 * `wrapp serve`, or made by a sidecar. Sinks pass it on as it is.
 */
export interface TefEvent extends EventBase {
  readonly kind: "tef";
  /** Whose trace it is (a trace id or service name): Redis stream `logs:app:<stream>:trace`. */
  readonly stream: string;
  /** The TEF event (one JSON object). */
  readonly event: Readonly<Record<string, unknown>>;
  /** Its JSON text when already serialised, so it is not encoded twice. */
  readonly json?: string;
}

/** A crash report: the service died from a core-dumping signal (lib/core/events/crash.ts). */
export type { CrashEvent };

/** A hang report: the watchdog fired and gdb took the live service's backtraces (lib/core/events/hang.ts). */
export type { HangEvent };

/**
 * Syscall statistics of a traced process tree, per interval or in total, and one syscall
 * far slower than usual (`wrapp trace`; lib/core/events/syscall.ts).
 */
export type { AnomalyEvent, SyscallEvent };

/**
 * Every event kind.
 *
 * @example Narrowing on kind
 * ```ts
 * import type { Event } from "@wrapp/wrapp";
 *
 * function describe(event: Event): string {
 *   return event.kind === "log" ? `${event.stream}: ${event.text}` : event.kind;
 * }
 * ```
 */
export type Event =
  | LogEvent
  | StatusEvent
  | MetricEvent
  | TefEvent
  | CrashEvent
  | HangEvent
  | SyscallEvent
  | AnomalyEvent;

/** The `kind` tags. */
export type EventKind = Event["kind"];

/**
 * One encoder per event kind; a missing kind is a type error.
 *
 * @example One encoder per kind
 * ```ts
 * import type { EventEncoders } from "@wrapp/wrapp";
 *
 * const asText: EventEncoders<string> = {
 *   log: (event) => event.text,
 *   status: (event) => event.message,
 *   metric: (event) => `${event.name}=${event.value}`,
 *   tef: (event) => JSON.stringify(event.event),
 *   crash: (event) => event.kind,
 *   hang: (event) => event.kind,
 *   syscall: (event) => event.kind,
 *   anomaly: (event) => event.kind,
 * };
 * ```
 */
export type EventEncoders<T> = {
  readonly [K in EventKind]: (event: Extract<Event, { kind: K }>) => T;
};

/**
 * Encode an event with the encoder for its kind.
 *
 * @example Encoding a log line
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEvent, type EventEncoders } from "@wrapp/wrapp";
 *
 * const kindOnly = (event: { kind: string }) => event.kind;
 * const encoders: EventEncoders<string> = {
 *   log: (event) => `${event.stream}: ${event.text}`,
 *   status: kindOnly,
 *   metric: kindOnly,
 *   tef: kindOnly,
 *   crash: kindOnly,
 *   hang: kindOnly,
 *   syscall: kindOnly,
 *   anomaly: kindOnly,
 * };
 * const text = encodeEvent(encoders, { kind: "log", time: 0, stream: "stderr", text: "oops" });
 * assert.equal(text, "stderr: oops");
 * ```
 */
export function encodeEvent<T>(encoders: EventEncoders<T>, event: Event): T {
  // The cast is safe: the mapped type pairs each kind with its own encoder.
  return (encoders[event.kind] as (e: Event) => T)(event);
}

/**
 * Current time in ms since the Unix epoch, with sub-millisecond precision.
 *
 * @example Timing a step
 * ```ts
 * import { now } from "@wrapp/wrapp";
 *
 * const started = now();
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(`took ${(now() - started).toFixed(3)} ms`);
 * ```
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
