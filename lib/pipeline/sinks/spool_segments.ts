/**
 * {@linkcode SpoolSegments}: the segment files of a `DiskSpool` (disk_spool.ts), oldest first,
 * with the records and bytes they hold: the tail appended to, sealed, and segments deleted
 * once delivered or dropped to make room.
 *
 * @module
 */

import { describeCause } from "../../core/errors.ts";
import type { DebugLog } from "../../core/debug.ts";
import { FIRST_SEGMENT_ID, segmentPath, type SpoolSegment, writeAll } from "./spool_files.ts";
import type { SpoolSync } from "./spool_sync.ts";

/** The segments of one spool folder; see the module documentation. */
export class SpoolSegments<T> {
  /** The segments, oldest first. */
  readonly list: SpoolSegment<T>[] = [];
  /** The segment appended to, if any. */
  tail: SpoolSegment<T> | undefined;
  /** Records waiting (not yet acknowledged nor dropped). */
  count = 0;
  /** Bytes of the segment files. */
  bytes = 0;
  /** Records deleted with the segments dropped to make room. */
  droppedRecords = 0;
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #sync: SpoolSync<SpoolSegment<T>>;
  readonly #debug: DebugLog;
  readonly #encoder = new TextEncoder();
  #nextId: number;

  /** The segments of `dir` (those `recovered` from a previous process first). */
  constructor(
    dir: string,
    maxBytes: number,
    recovered: SpoolSegment<T>[],
    sync: SpoolSync<SpoolSegment<T>>,
    debug: DebugLog,
  ) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#sync = sync;
    this.#debug = debug;
    this.list.push(...recovered);
    for (const segment of recovered) {
      this.count += segment.count - segment.acked;
      this.bytes += segment.bytes;
    }
    this.#nextId = recovered.length > 0 ? recovered[recovered.length - 1].id + 1 : FIRST_SEGMENT_ID;
  }

  /** Write complete lines to the tail segment, beginning one when there is none. */
  writeTail(lines: string, count: number): void {
    if (this.tail === undefined) {
      const id = this.#nextId++;
      const path = segmentPath(this.#dir, id);
      const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
      this.tail = { id, path, bytes: 0, count: 0, acked: 0, file, reading: false };
      this.list.push(this.tail);
      this.#sync.dirDirty = true;
      this.#sync.arm();
    }
    const bytes = this.#encoder.encode(lines);
    const tail = this.tail;
    try {
      writeAll(tail.file!, bytes);
    } catch (error) {
      if (tail.count === 0) {
        // Nothing of it is worth keeping: no empty segment file stays behind.
        this.seal();
        throw error;
      }
      // Cut a partial write so the segment still ends with a whole line, and retry on the
      // same file later (a new segment per failed write would pile up empty files).
      try {
        tail.file!.truncateSync(tail.bytes);
        tail.file!.seekSync(tail.bytes, Deno.SeekMode.Start);
      } catch {
        this.seal(); // the reader will skip the partial line
      }
      throw error;
    }
    this.tail.bytes += bytes.length;
    this.tail.count += count;
    this.bytes += bytes.length;
    this.count += count;
    this.#sync.tailDirty = true;
    this.#sync.arm();
  }

  /** Stop appending to the tail: the next append begins a new segment. */
  seal(): void {
    const tail = this.tail;
    if (tail === undefined) return;
    this.tail = undefined;
    tail.file!.close();
    tail.file = undefined;
    if (tail.count === 0) {
      this.remove(tail); // an empty segment (its only write failed): delete it
    } else if (this.#sync.tailDirty) {
      this.#sync.unsynced(tail);
    }
    this.#sync.tailDirty = false;
    this.#sync.arm();
  }

  /** A segment written whole in front of the others (records given back). */
  addOldest(segment: SpoolSegment<T>): void {
    this.#sync.unsynced(segment);
    this.list.unshift(segment);
    this.count += segment.count;
    this.bytes += segment.bytes;
  }

  /**
   * Delete oldest segments (the tail too: bytes in hand are newer than it) until `extra`
   * more bytes fit under `maxBytes`. Returns false when they still do not fit.
   */
  makeRoom(extra: number): boolean {
    while (this.bytes + extra > this.#maxBytes) {
      if (!this.dropOldest()) return false;
    }
    return true;
  }

  /** Delete the oldest segment no reader uses (possibly the tail), counting its records. False when there is none. */
  dropOldest(): boolean {
    const victim = this.list.find((segment) => !segment.reading);
    if (victim === undefined) return false;
    const lost = victim.count - victim.acked;
    this.droppedRecords += lost;
    this.#debug(
      `spool ${this.#dir}: full (${this.bytes} bytes); dropped segment ${victim.id} with ${lost} records`,
    );
    if (victim === this.tail) this.seal();
    this.remove(victim);
    return true;
  }

  /** Forget a segment and delete its file. */
  remove(segment: SpoolSegment<T>): void {
    const index = this.list.indexOf(segment);
    if (index < 0) return;
    this.list.splice(index, 1);
    this.count -= segment.count - segment.acked;
    this.bytes -= segment.bytes;
    segment.records = undefined;
    this.#sync.forget(segment);
    try {
      Deno.removeSync(segment.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#debug(`spool ${this.#dir}: cannot delete ${segment.path}: ${describeCause(error)}`);
      }
    }
    this.#sync.dirDirty = true;
    this.#sync.arm();
  }
}
