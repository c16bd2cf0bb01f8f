/**
 * The files of a `DiskSpool` (disk_spool.ts): segment files named by id, written whole lines at
 * a time, read back as records, and recovered after a crash (a partial last line cut, the
 * `ack` position applied).
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";
import type { SpoolRecovery } from "./spool_options.ts";

/** New spools start numbering here so that prepend() has room below. */
export const FIRST_SEGMENT_ID = 1_000_000_000_000;
const _SEGMENT_NAME = /^(\d{16})\.jsonl$/;
/** The file holding how far the oldest segment is acknowledged. */
export const ACK_FILE = "ack";

/** One segment file of a spool, and how far it is read and acknowledged. */
export interface SpoolSegment<T> {
  readonly id: number;
  readonly path: string;
  /** Bytes in the file. */
  bytes: number;
  /** Records in the file (complete lines; valid JSON once loaded). */
  count: number;
  /** Records acknowledged, counted from the start of the file. */
  acked: number;
  /** Open for appending while this is the tail. */
  file?: Deno.FsFile;
  /** The parsed records, once a reader needed them. */
  records?: T[];
  /** Set while a reader uses it, so drop_oldest leaves it alone. */
  reading: boolean;
}

/**
 * The records of a segment file, and how many of its lines are not JSON (all of them when
 * the file was deleted behind the spool's back).
 */
export async function readSegmentRecords<T>(
  segment: SpoolSegment<T>,
): Promise<{ records: T[]; bad: number }> {
  const records: T[] = [];
  let bad = 0;
  try {
    const lines = new TextDecoder().decode(await Deno.readFile(segment.path)).split("\n");
    lines.pop(); // after the last newline: empty (recovery cut any partial line)
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        bad++;
      }
    }
  } catch (error) {
    // Deleted behind our back: its records are lost, counted, and the spool goes on.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    bad = segment.count;
  }
  return { records, bad };
}

/** Whether a write failed because the file system has no room (ENOSPC, or a quota: EDQUOT). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** The path of segment `id` in `dir`: `<16-digit id>.jsonl`. */
export function segmentPath(dir: string, id: number): string {
  return `${dir}/${String(id).padStart(16, "0")}.jsonl`;
}

/**
 * Write a new segment file `id` in `dir` holding `bytes`, whole; its path. Throws a
 * `SinkError` (and leaves no file) when it cannot be written.
 */
export function writeSegmentFile(dir: string, id: number, bytes: Uint8Array): string {
  const path = segmentPath(dir, id);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  } catch (error) {
    throw new SinkError(`Cannot write spool "${dir}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  try {
    writeAll(file, bytes);
  } catch (error) {
    file.close();
    try {
      Deno.removeSync(path);
    } catch { /* a stray partial segment: recovery skips its last line */ }
    throw new SinkError(`Cannot write spool "${dir}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  file.close();
  return path;
}

/** Write all of `bytes` to `file`, synchronously. */
export function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** Scan `dir`: keep complete lines of each segment, cut a partial last line, apply the ack position. */
export async function recoverSegments<T>(
  dir: string,
): Promise<{ segments: SpoolSegment<T>[]; recovery: SpoolRecovery }> {
  const ids: number[] = [];
  // Synchronous listing and position read: at start-up each async call would wait for a
  // round trip through Deno's thread pool (the segments, rarely there, are read async).
  for (const entry of Deno.readDirSync(dir)) {
    const match = entry.isFile ? _SEGMENT_NAME.exec(entry.name) : null;
    if (match) ids.push(Number(match[1]));
  }
  ids.sort((a, b) => a - b);
  const segments: SpoolSegment<T>[] = [];
  const recovery: SpoolRecovery = { segments: 0, records: 0, bytes: 0, partialLines: 0 };
  for (const id of ids) {
    const path = segmentPath(dir, id);
    const data = await Deno.readFile(path);
    const end = data.lastIndexOf(10) + 1; // bytes up to and with the last newline
    if (end < data.length) {
      recovery.partialLines++;
      await Deno.truncate(path, end);
    }
    let count = 0;
    for (let i = data.indexOf(10); i >= 0 && i < end; i = data.indexOf(10, i + 1)) count++;
    if (count === 0) {
      await Deno.remove(path);
      continue;
    }
    segments.push({ id, path, bytes: end, count, acked: 0, reading: false });
  }
  try {
    const ack = JSON.parse(Deno.readTextFileSync(`${dir}/${ACK_FILE}`)) as {
      segment: number;
      acked: number;
    };
    const head = segments[0];
    if (
      head !== undefined && head.id === ack.segment && Number.isInteger(ack.acked) && ack.acked > 0
    ) {
      head.acked = Math.min(ack.acked, head.count);
    }
  } catch {
    // No position (or an unreadable one): replay the oldest segment whole.
  }
  for (const segment of segments) {
    recovery.segments++;
    recovery.records += segment.count - segment.acked;
    recovery.bytes += segment.bytes;
  }
  return { segments, recovery };
}
