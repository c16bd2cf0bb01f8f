/**
 * A Web Worker that follows one Redis stream with `XREAD BLOCK` and times the arrival of the
 * paced printer's lines (`lat <i> <µs>`, see `_paced_printer.ts`) against their send time, on
 * its own thread so the benchmark's /proc sampling never delays a reading.
 *
 * Post it a {@linkcode LatencyRequest}; it answers one {@linkcode LatencyResult} once it has
 * read the printer's `end <count>` line, or after a `"stop"` message.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { Redis } from "ioredis";
import { realtimeUs } from "./_clock.ts";

/** What to follow. */
export interface LatencyRequest {
  port: number;
  db: number;
  key: string;
}

/** What the reader saw. */
export interface LatencyResult {
  /** CLOCK_REALTIME µs at which each `lat` line was printed, in arrival order. */
  sentUs: number[];
  /** Print → readable, µs, same order as `sentUs`. */
  latencyUs: number[];
  /** The count in the printer's `end <count>` line; undefined if it never came. */
  endCount?: number;
  /** Whether every `lat` index came, in order, from 0 up to the last one read. */
  contiguous: boolean;
  /** An error that ended the reading early. */
  error?: string;
}

let stopped = false;

self.onmessage = (event: MessageEvent<LatencyRequest | "stop">) => {
  if (event.data === "stop") {
    stopped = true;
    return;
  }
  _follow(event.data).then((result) => self.postMessage(result));
};

/** The entry's text: `message` (the Go layout), else `msg` (older versions of ours). */
function _text(fields: string[]): string | undefined {
  let msg: string | undefined;
  for (let k = 0; k + 1 < fields.length; k += 2) {
    if (fields[k] === "message") return fields[k + 1];
    if (fields[k] === "msg") msg = fields[k + 1];
  }
  return msg;
}

async function _follow(request: LatencyRequest): Promise<LatencyResult> {
  const redis = new Redis({ host: "127.0.0.1", port: request.port, db: request.db });
  const result: LatencyResult = { sentUs: [], latencyUs: [], contiguous: true };
  let last = "0-0";
  let next = 0;
  try {
    while (!stopped && result.endCount === undefined) {
      const reply = await redis.xread("COUNT", 5000, "BLOCK", 500, "STREAMS", request.key, last);
      const now = realtimeUs();
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const text = _text(fields) ?? "";
          if (text.startsWith("lat ")) {
            const [, index, sent] = text.split(" ");
            if (Number(index) !== next) result.contiguous = false;
            next = Number(index) + 1;
            result.sentUs.push(Number(sent));
            result.latencyUs.push(now - Number(sent));
          } else if (text.startsWith("end ")) {
            result.endCount = Number(text.slice(4));
          }
        }
      }
    }
  } catch (error) {
    result.error = String((error as Error)?.message ?? error);
  } finally {
    redis.disconnect();
  }
  return result;
}
