/**
 * A durable FIFO of JSON records on disk, for a sink whose destination is away.
 *
 * The spool is a folder of append-only segment files, `<16-digit id>.jsonl`, one JSON
 * record per line, read oldest id first. Appends are synchronous writes into the page
 * cache (so a caller on the hot path keeps its order without awaiting), and the data is
 * fsynced at most `fsyncIntervalMs` after it was written (500 ms by default, like Vector's
 * disk buffer), so a kill -9 or power loss costs at most that much. The fsync timer runs
 * only while something is unsynced: an idle spool costs no wake-up. Readers {@linkcode DiskSpool.readBatch}
 * (a peek) and then {@linkcode DiskSpool.ack} what was delivered; a segment is deleted
 * once every record in it is acknowledged.
 *
 * Delivery is at-least-once: the position inside the oldest segment is remembered in a
 * small `ack` file, rewritten on every ack without fsync, so after a crash at most the
 * records acknowledged since its last write reach the destination twice.
 *
 * Recovery on {@linkcode DiskSpool.open}: segments left by a previous process are kept
 * and read first; a partially written last line (the process died mid-write) is cut off
 * and counted in {@linkcode DiskSpool.skippedLines}, as is a line that is not valid JSON.
 *
 * One spool folder belongs to one process at a time: {@linkcode DiskSpool.open} claims it
 * (see `spool_owner.ts`) and refuses a folder another live wrapp holds.
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";
import { utf8Length } from "../../core/utf8_length.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { claimSpool, type ReleaseSpool } from "./spool_owner.ts";
import {
  DEFAULT_SPOOL_MAX_BYTES,
  type DiskSpoolOptions,
  type SpoolPolicy,
  type SpoolRecovery,
} from "./spool_options.ts";
import {
  FIRST_SEGMENT_ID,
  isDiskFull,
  readSegmentRecords,
  recoverSegments,
  type SpoolSegment,
  writeSegmentFile,
} from "./spool_files.ts";
import { SpoolSync } from "./spool_sync.ts";
import { SpoolSegments } from "./spool_segments.ts";
import { SpoolPosition } from "./spool_position.ts";

export {
  DEFAULT_SPOOL_MAX_BYTES,
  type DiskSpoolOptions,
  type SpoolPolicy,
  type SpoolRecovery,
} from "./spool_options.ts";

/** A folder of JSON-lines segment files used as a bounded, crash-safe FIFO. */
export class DiskSpool<T> {
  #release: ReleaseSpool = () => {};
  /** The spool folder. */
  readonly dir: string;
  /** What was left by a previous process. */
  readonly recovery: SpoolRecovery;
  /** Bytes above which the spool counts as {@linkcode DiskSpool.full}. */
  readonly maxBytes: number;
  /** Segment size at which a new segment is begun. */
  readonly segmentBytes: number;
  /** The configured policy. */
  readonly policy: SpoolPolicy;

  readonly #debug: DebugLog;
  readonly #encoder = new TextEncoder();
  readonly #files: SpoolSegments<T>;
  #skippedLines = 0;
  readonly #sync: SpoolSync<SpoolSegment<T>>;
  readonly #position: SpoolPosition;
  #closed = false;
  #lowestId: number;
  #writeErrors = 0;
  #lastWriteError: string | undefined;
  // Lowered once the disk fills up, so that a later drop_oldest gives back a small share.
  #segmentLimit: number;

  private constructor(
    dir: string,
    options: DiskSpoolOptions,
    recovered: SpoolSegment<T>[],
    recovery: SpoolRecovery,
  ) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.segmentBytes = options.segmentBytes ??
      Math.min(8 * 1024 * 1024, Math.max(4096, Math.floor(this.maxBytes / 16)));
    this.policy = options.policy ?? "drop_oldest";
    this.#segmentLimit = this.segmentBytes;
    this.#debug = options.debug ?? silentDebug;
    this.recovery = recovery;
    this.#skippedLines = recovery.partialLines;
    this.#lowestId = recovered.length > 0 ? recovered[0].id : FIRST_SEGMENT_ID;
    const acked = recovered.some((segment) => segment.acked > 0);
    this.#position = new SpoolPosition(dir, acked, this.#debug);
    this.#sync = new SpoolSync(dir, options.fsyncIntervalMs ?? 500, this.#debug, {
      isLive: (segment) => this.#files.list.includes(segment),
      tailFile: () => this.#files.tail?.file,
    });
    this.#files = new SpoolSegments(dir, this.maxBytes, recovered, this.#sync, this.#debug);
  }

  /**
   * Open (creating it, mode 0700) the spool in `dir` and recover what a previous process
   * left there. Throws {@linkcode SinkError} when the folder cannot be used.
   */
  static async open<T>(dir: string, options: DiskSpoolOptions = {}): Promise<DiskSpool<T>> {
    if (options.maxBytes !== undefined && !(options.maxBytes > 0)) {
      throw new RangeError(
        `Invalid spool size ${options.maxBytes}: must be a positive number of bytes`,
      );
    }
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 }); // sync at start-up: see claimSpool
    } catch (error) {
      throw new SinkError(`Cannot open spool "${dir}": ${describeCause(error)}`, { cause: error });
    }
    const release = claimSpool(dir);
    try {
      const { segments, recovery } = await recoverSegments<T>(dir);
      const spool = new DiskSpool<T>(dir, options, segments, recovery);
      spool.#release = release;
      return spool;
    } catch (error) {
      release();
      throw new SinkError(`Cannot open spool "${dir}": ${describeCause(error)}`, { cause: error });
    }
  }

  /** Records waiting (appended or recovered, not yet acknowledged nor dropped). */
  get count(): number {
    return this.#files.count;
  }

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.#files.bytes;
  }

  /** Segment files on disk. */
  get segments(): number {
    return this.#files.list.length;
  }

  /** Whether the spool holds `maxBytes` or more. */
  get full(): boolean {
    return this.#files.bytes >= this.maxBytes;
  }

  /** Records deleted because `maxBytes` was reached (policy `drop_oldest`). */
  get droppedRecords(): number {
    return this.#files.droppedRecords;
  }

  /** Failed appends (each dropped its records). */
  get writeErrors(): number {
    return this.#writeErrors;
  }

  /** The last failed append, as a sentence, e.g. `Cannot write spool "/var/spool": no space left on device`. */
  get lastWriteError(): string | undefined {
    return this.#lastWriteError;
  }

  /** Lines lost to corruption: a partially written last line, or a line that is not JSON. */
  get skippedLines(): number {
    return this.#skippedLines;
  }

  /**
   * Append records after everything already spooled, synchronously (the bytes reach the
   * page cache now, the disk within `fsyncIntervalMs`). Returns how many records were
   * dropped to stay under `maxBytes` or to make room on a full disk (policy
   * `drop_oldest`; these are older records, or some of `records` when nothing older can
   * go) or because the write failed otherwise (I/O error: see
   * {@linkcode DiskSpool.lastWriteError}). Never throws for I/O.
   */
  append(records: readonly T[]): number {
    this.#assertOpen();
    const droppedBefore = this.#files.droppedRecords;
    this.#appendLines(records, false);
    return this.#files.droppedRecords - droppedBefore;
  }

  /**
   * Append the leading records that the disk takes, for policy `block`: stops at the
   * first failed write (disk full, I/O error: see {@linkcode DiskSpool.lastWriteError})
   * and returns how many records were appended; the rest are neither written nor counted
   * as dropped, the caller keeps them and tries again later. `maxBytes` is not enforced
   * here (see {@linkcode DiskSpool.full}). Never throws for I/O, never leaves an empty
   * segment file behind.
   */
  appendUntilFull(records: readonly T[]): number {
    this.#assertOpen();
    return this.#appendLines(records, true);
  }

  /** Append in chunks that end at segment boundaries; returns how many records were written. */
  #appendLines(records: readonly T[], keepOnFailure: boolean): number {
    let written = 0;
    let failed = false;
    let lines = "";
    let lineCount = 0;
    let lineBytes = 0;
    const flushLines = () => {
      if (lineCount > 0 && !failed) {
        if (this.#writeOrMakeRoom(lines, lineCount, keepOnFailure)) written += lineCount;
        else failed = keepOnFailure;
      }
      lines = "";
      lineCount = 0;
      lineBytes = 0;
    };
    for (const record of records) {
      if (failed) break;
      const line = JSON.stringify(record) + "\n";
      const size = utf8Length(line);
      const tailBytes = (this.#files.tail?.bytes ?? 0) + lineBytes;
      if (tailBytes > 0 && tailBytes + size > this.#segmentLimit) {
        flushLines();
        if (failed) break;
        this.#files.seal();
      }
      if (
        !keepOnFailure && this.policy === "drop_oldest" && !this.#files.makeRoom(lineBytes + size)
      ) {
        // Nothing older is left to drop: this record goes.
        this.#files.droppedRecords++;
        continue;
      }
      lines += line;
      lineCount++;
      lineBytes += size;
    }
    flushLines();
    return written;
  }

  /**
   * Write lines to the tail. On a full disk with `drop_oldest` (and not `keep`), delete the
   * oldest segments one by one until the lines fit. False when they were not written:
   * counted as dropped unless `keep`.
   */
  #writeOrMakeRoom(lines: string, count: number, keep: boolean): boolean {
    for (;;) {
      try {
        this.#files.writeTail(lines, count);
        return true;
      } catch (error) {
        this.#writeErrors++;
        this.#lastWriteError = `Cannot write spool "${this.dir}": ${describeCause(error)}`;
        if (isDiskFull(error)) {
          // Later segments are a 16th of what fit, so that a drop gives back a small share.
          this.#segmentLimit = Math.max(
            4096,
            Math.min(this.#segmentLimit, Math.floor(this.#files.bytes / 16)),
          );
          if (!keep && this.policy === "drop_oldest" && this.#files.dropOldest()) continue;
        }
        if (!keep) {
          this.#files.droppedRecords += count;
          this.#debug(`${this.#lastWriteError}; ${count} records dropped`);
        } else {
          this.#debug(`${this.#lastWriteError}; ${count} records left to the caller`);
        }
        return false;
      }
    }
  }

  /**
   * Put records before everything spooled, as a new oldest segment: used for records
   * that were taken out for delivery and must go back first. Must not be called between
   * {@linkcode DiskSpool.readBatch} and its {@linkcode DiskSpool.ack}. Returns how many
   * records were dropped to stay under `maxBytes` (with `drop_oldest` these are the
   * oldest, so possibly `records` themselves). Throws when the segment cannot be written;
   * nothing is added then, and the caller still holds the records.
   */
  prepend(records: readonly T[]): number {
    this.#assertOpen();
    if (records.length === 0) return 0;
    const droppedBefore = this.#files.droppedRecords;
    const text = records.map((record) => JSON.stringify(record) + "\n").join("");
    const bytes = this.#encoder.encode(text);
    const id = --this.#lowestId;
    const path = writeSegmentFile(this.dir, id, bytes);
    this.#sync.dirDirty = true;
    this.#sync.arm();
    this.#files.addOldest({
      id,
      path,
      bytes: bytes.length,
      count: records.length,
      acked: 0,
      reading: false,
    });
    if (this.policy === "drop_oldest") this.#files.makeRoom(0);
    this.#position.save(this.#files.list[0]);
    return this.#files.droppedRecords - droppedBefore;
  }

  /**
   * Up to `n` of the oldest records not yet acknowledged, without removing them (a peek:
   * called again before {@linkcode DiskSpool.ack}, it returns the same records). Reads
   * from one segment at a time, so a batch may be shorter than `n`; empty when the
   * spool is.
   */
  async readBatch(n: number): Promise<T[]> {
    this.#assertOpen();
    while (this.#files.list.length > 0) {
      const head = this.#files.list[0];
      if (head === this.#files.tail) this.#files.seal();
      if (head.records === undefined) {
        head.reading = true;
        await this.#load(head);
        if (this.#files.list[0] !== head) continue; // dropped or prepended meanwhile
      }
      head.reading = true;
      if (head.acked >= head.count) {
        this.#files.remove(head);
        continue;
      }
      return head.records!.slice(head.acked, head.acked + n);
    }
    return [];
  }

  /** Acknowledge the `n` oldest records (the first `n` returned by {@linkcode DiskSpool.readBatch}). */
  ack(n: number): void {
    this.#assertOpen();
    let left = n;
    while (left > 0 && this.#files.list.length > 0) {
      const head = this.#files.list[0];
      if (head.records === undefined) {
        throw new RangeError("DiskSpool.ack() of records that were not read");
      }
      const take = Math.min(left, head.count - head.acked);
      head.acked += take;
      this.#files.count -= take;
      left -= take;
      if (head.acked >= head.count) this.#files.remove(head);
    }
    this.#position.save(this.#files.list[0]);
  }

  /** Wait until everything appended so far is on disk (fsync of data and folder). */
  sync(): Promise<void> {
    return this.#sync.sync();
  }

  /** Fsync and close; the segment files stay for the next {@linkcode DiskSpool.open}. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#sync.cancel();
    await this.sync();
    this.#closed = true;
    this.#sync.stop();
    this.#files.tail?.file?.close();
    if (this.#files.tail) this.#files.tail.file = undefined;
    this.#files.tail = undefined;
    this.#release();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`Spool "${this.dir}" is closed`);
  }

  /** Read and parse a sealed segment; lines that are not JSON are counted and left out. */
  async #load(segment: SpoolSegment<T>): Promise<void> {
    const { records, bad } = await readSegmentRecords<T>(segment);
    if (bad > 0) {
      this.#skippedLines += bad;
      this.#debug(`spool ${this.dir}: ${bad} unreadable lines in ${segment.path} skipped`);
    }
    // Unreadable lines no longer wait; a recovered position past the end is clamped.
    const waitingBefore = segment.count - segment.acked;
    segment.count = records.length;
    segment.acked = Math.min(segment.acked, segment.count);
    if (this.#files.list.includes(segment)) {
      this.#files.count -= waitingBefore - (segment.count - segment.acked);
    }
    segment.records = records;
  }
}
