/**
 * One entry of a service's log streams as `wrapp logs` prints it, and the order of
 * entries read from several streams.
 *
 * @module
 */

/** The streams of a service, in the order `all` prints them. */
export const LOG_STREAMS = ["info", "error", "status", "crash", "trace"] as const;

/** One of {@linkcode LOG_STREAMS}. */
export type LogStream = typeof LOG_STREAMS[number];

/** One entry read from a stream: its key, id and field/value pairs. */
export interface LogEntry {
  key: string;
  id: string;
  fields: string[];
}

/**
 * The printed line of entry `id` of `stream`: `<time> <stream> <message>`, or one JSON
 * object with `json`.
 */
export function formatLogEntry(
  stream: LogStream,
  id: string,
  fields: string[],
  json: boolean,
): string {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
  if (json) return JSON.stringify({ id, stream, ...record });
  const ms = Number(record.ts ?? id.split("-")[0]);
  const time = Number.isFinite(ms) ? new Date(ms).toISOString() : String(record.ts);
  // The go layout keeps stderr lines in :info, marked `output`; the wrapp layout in :error.
  const shown = stream === "info" && record.output === "stderr" ? "error" : stream;
  // `msg`: entries written by wrapp before it used the Go wrapp's field name.
  const text = record.message ?? record.msg ?? JSON.stringify(record);
  return `${time} ${shown.padEnd(6)} ${text}`;
}

/**
 * Order entries of several streams: by the entry id's milliseconds, then by id sequence.
 * Ids of different streams within one millisecond cannot be ordered; this keeps each
 * stream's own order, which is what matters.
 */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am - bm || as - bs;
}
