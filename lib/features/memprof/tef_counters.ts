/**
 * Memory over time as Trace Event Format counters, for ui.perfetto.dev: one `C` event
 * per sample on two counter tracks of the profiled process, `attributed kB` (`resident`
 * and `cache`, what wrapp attributed to call stacks) and `process kB` (`rss` and
 * `anon`, what the kernel reports). `ts` is microseconds since the Unix epoch.
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";

/** One point in time. */
export interface MemorySample {
  /** ms since the Unix epoch. */
  readonly time: number;
  /** Attributed resident kB. */
  readonly residentKb: number;
  /** Attributed page-cache kB. */
  readonly cacheKb: number;
  /** The process's RSS, kB, when it could be read. */
  readonly rssKb?: number;
  /** The anonymous part of the RSS, kB. */
  readonly anonKb?: number;
}

/** Options for {@linkcode memoryCounterEvents}. */
export interface CounterOptions {
  /** pid written on the events: the profiled process. */
  pid: number;
  /** Process name shown in Perfetto. Default `memprof <pid>`. */
  name?: string;
}

/** The counter events of one sample. */
export function sampleCounterEvents(
  sample: MemorySample,
  pid: number,
): Record<string, unknown>[] {
  const ts = Math.round(sample.time * 1000);
  const events: Record<string, unknown>[] = [{
    ph: "C",
    name: "attributed kB",
    ts,
    pid,
    tid: pid,
    args: { resident: sample.residentKb, cache: sample.cacheKb },
  }];
  if (sample.rssKb !== undefined) {
    const args: Record<string, number> = { rss: sample.rssKb };
    if (sample.anonKb !== undefined) args.anon = sample.anonKb;
    events.push({ ph: "C", name: "process kB", ts, pid, tid: pid, args });
  }
  return events;
}

/** Every event of a counters trace: the process name, then the samples' counters. */
export function memoryCounterEvents(
  samples: readonly MemorySample[],
  options: CounterOptions,
): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [{
    ph: "M",
    name: "process_name",
    pid: options.pid,
    args: { name: options.name ?? `memprof ${options.pid}` },
  }];
  for (const sample of samples) events.push(...sampleCounterEvents(sample, options.pid));
  return events;
}

/**
 * Write the counters as an array-form trace.json, atomically (a temporary file renamed
 * over `path`). Throws {@linkcode SinkError} when it cannot be written.
 */
export async function writeTefCounters(
  path: string,
  samples: readonly MemorySample[],
  options: CounterOptions,
): Promise<void> {
  const events = memoryCounterEvents(samples, options);
  // Perfetto detects JSON only when the file starts with `[{"`.
  const text = `[${events.map((e) => JSON.stringify(e)).join(",\n")}]\n`;
  const temporary = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new SinkError(`Cannot write "${path}": ${describeCause(error)}`, { cause: error });
  }
}
