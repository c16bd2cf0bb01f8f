/**
 * The trace folder as the `list`, `get-tef` and `clear` commands see it: one
 * `<trace-id>.jsonl` file per trace, nothing else touched.
 *
 * Unlike tldrs, "latest" is the most recently modified trace (tldrs takes the last name in
 * alphabetical order), and `clear` removes only `*.jsonl` files.
 *
 * @module
 */

import { basename, join } from "node:path";
import { didYouMean } from "../../core/did_you_mean.ts";
import { describeCause, UsageError, WrappError } from "../../core/errors.ts";
import { TRACE_FILE_SUFFIX, traceFileName, traceIdProblem } from "./trace_id.ts";

/** One trace in the folder. */
export interface TraceInfo {
  /** The trace id (the file name without `.jsonl`). */
  id: string;
  /** Path of the `.jsonl` file. */
  path: string;
  /** File size in bytes. */
  bytes: number;
  /** Events in it: its non-blank lines (the collector writes one event per line). */
  events: number;
  /** Last modification. */
  modified: Date;
}

/** A trace picked by {@linkcode findTrace}. */
export interface FoundTrace {
  /** The trace id, or the file name without `.jsonl` for a path. */
  id: string;
  /** Path of the `.jsonl` file. */
  path: string;
}

const _NL = 0x0a;

/**
 * The traces in `dir`, oldest first (so the newest is printed last, next to the prompt).
 * An absent folder holds no traces.
 */
export async function listTraces(dir: string): Promise<TraceInfo[]> {
  const traces: TraceInfo[] = [];
  for (const entry of await _jsonlFiles(dir)) {
    const path = join(dir, entry);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue; // Removed meanwhile.
    }
    traces.push({
      id: entry.slice(0, -TRACE_FILE_SUFFIX.length),
      path,
      bytes: info.size,
      events: await countEvents(path).catch(() => 0),
      modified: info.mtime ?? new Date(0),
    });
  }
  return traces.sort((a, b) =>
    a.modified.getTime() - b.modified.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Count the non-blank lines of a file, streaming it. */
export async function countEvents(path: string): Promise<number> {
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(1 << 20);
    let count = 0;
    // Whether the current line has a byte other than whitespace.
    let content = false;
    for (;;) {
      const n = await file.read(buffer);
      if (n === null) break;
      for (let i = 0; i < n; i++) {
        const byte = buffer[i];
        if (byte === _NL) {
          if (content) count++;
          content = false;
        } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
          content = true;
        }
      }
    }
    return content ? count + 1 : count;
  } finally {
    file.close();
  }
}

/**
 * Pick a trace by what a user typed:
 *
 * - `latest`: the most recently modified `.jsonl` in `dir`;
 * - something with a `/` or ending in `.jsonl`: that file;
 * - anything else: the trace id, i.e. `<dir>/<id>.jsonl`.
 *
 * Throws a {@linkcode UsageError} for an invalid id and a {@linkcode WrappError} when the
 * trace does not exist, suggesting a close id.
 */
export async function findTrace(dir: string, spec: string): Promise<FoundTrace> {
  if (spec === "latest") {
    const traces = await listTraces(dir);
    const latest = traces.at(-1);
    if (latest === undefined) throw new WrappError(`No traces in "${dir}": nothing is latest`);
    return { id: latest.id, path: latest.path };
  }
  if (spec.includes("/") || spec.endsWith(TRACE_FILE_SUFFIX)) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(spec);
    } catch (error) {
      throw new WrappError(`Cannot read trace "${spec}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    if (!info.isFile) throw new WrappError(`Cannot read trace "${spec}": not a file`);
    const name = basename(spec);
    return {
      id: name.endsWith(TRACE_FILE_SUFFIX) ? name.slice(0, -TRACE_FILE_SUFFIX.length) : name,
      path: spec,
    };
  }
  const problem = traceIdProblem(spec);
  if (problem !== undefined) throw new UsageError(`Invalid trace id "${spec}": ${problem}`);
  const path = join(dir, traceFileName(spec));
  try {
    await Deno.stat(path);
  } catch {
    const ids = (await _jsonlFiles(dir)).map((name) => name.slice(0, -TRACE_FILE_SUFFIX.length));
    const suggestion = didYouMean(spec, ids);
    throw new WrappError(
      `No trace "${spec}" in "${dir}"${
        suggestion ? ` (did you mean "${suggestion}"?)` : ""
      }: see "wrapp list"`,
    );
  }
  return { id: spec, path };
}

/** Remove every `*.jsonl` file in `dir` (nothing else); returns how many. */
export async function clearTraces(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await _jsonlFiles(dir)) {
    try {
      await Deno.remove(join(dir, name));
      removed++;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw new WrappError(`Cannot remove "${join(dir, name)}": ${describeCause(error)}`, {
        cause: error,
      });
    }
  }
  return removed;
}

/** Names of the regular `*.jsonl` files in `dir`; none when it does not exist. */
async function _jsonlFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(TRACE_FILE_SUFFIX)) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new WrappError(`Cannot read the trace folder "${dir}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  return names.sort();
}
