/**
 * What the RedisSink tests share: sink options, numbered log lines, reading a stream back,
 * and the check that lines arrived in order (re-sent runs allowed: at-least-once).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { type LogEvent, now } from "../lib/core/event.ts";
import type { RedisSink, RedisSinkOptions } from "../lib/pipeline/sinks/redis.ts";
import type { RedisServer } from "./_redis.ts";
import { waitFor as waitUntil } from "./_helpers.ts";

export { ROOT, tempDir } from "./_helpers.ts";

/** Sink options for the Redis on `port`: stream `svc`, run `run-1`, host `testhost`, pid 4242. */
export function options(port: number, extra: Partial<RedisSinkOptions> = {}): RedisSinkOptions {
  return {
    host: "127.0.0.1",
    port,
    streamName: "svc",
    runId: "run-1",
    hostname: "testhost",
    pid: () => 4242,
    ...extra,
  };
}

/** Log event `line <i>`. */
export function log(i: number, stream: LogEvent["stream"] = "stdout"): LogEvent {
  return { kind: "log", stream, text: `line ${i}`, time: now() };
}

/** Log events `line <from>` … `line <to - 1>`. */
export function logs(from: number, to: number): LogEvent[] {
  return Array.from({ length: to - from }, (_, i) => log(from + i));
}

/** Write `count` log events numbered from `from`, in router-sized batches. */
export function writeLines(sink: RedisSink, from: number, count: number, batch = 4096): void {
  for (let i = from; i < from + count; i += batch) {
    sink.write(logs(i, Math.min(i + batch, from + count)));
  }
}

/** Every entry of a stream as field maps, oldest first, read in pages. */
export async function readStream(client: Redis, key: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  let start = "-";
  for (;;) {
    const page = await client.xrange(key, start, "+", "COUNT", 10_000);
    for (const [, fields] of page) {
      const entry: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
      out.push(entry);
    }
    if (page.length < 10_000) return out;
    start = `(${page[page.length - 1][0]}`;
  }
}

/** The numbers of `line N` messages, in stream order. */
export async function lineNumbers(
  redis: RedisServer,
  key = "logs:app:svc:info",
): Promise<number[]> {
  const client = await redis.client(1);
  return (await readStream(client, key)).map((entry) => Number(entry.message.replace("line ", "")));
}

/** Assert `seen` is 0..count-1 in order, allowing only re-sent runs (at-least-once). Returns the duplicates. */
export function assertInOrder(seen: number[], count: number): number {
  const first: number[] = [];
  const had = new Set<number>();
  for (const n of seen) {
    if (had.has(n)) continue;
    had.add(n);
    first.push(n);
  }
  assert.equal(first.length, count, `expected ${count} distinct lines, got ${first.length}`);
  for (let i = 0; i < count; i++) {
    if (first[i] !== i) assert.fail(`line ${i} out of order: got ${first[i]} at position ${i}`);
  }
  return seen.length - first.length;
}

/** `waitFor` of _helpers.ts with what it waits for named first, and 20 s by default. */
export function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  return waitUntil(condition, timeoutMs, what);
}
