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
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { claimSpool, type ReleaseSpool } from "./spool_owner.ts";

/** What a full spool does. */
export type SpoolPolicy = "drop_oldest" | "block";

/** Options for {@linkcode DiskSpool.open}. */
export interface DiskSpoolOptions {
  /** Bytes the segment files may take together. Default 256 MiB. */
  maxBytes?: number;
  /**
   * A segment is closed and a new one begun once it holds this many bytes. Default
   * `maxBytes / 16`, between 4 KiB and 8 MiB: small enough that dropping the oldest
   * segment gives back a small share of the spool.
   */
  segmentBytes?: number;
  /** Appended data is fsynced at most this long after it was written, in ms. Default 500. */
  fsyncIntervalMs?: number;
  /**
   * When `maxBytes` is reached or the disk is full: `drop_oldest` (default) deletes the
   * oldest segments and counts their records in {@linkcode DiskSpool.droppedRecords};
   * `block` keeps appending past `maxBytes` (a soft limit: the caller watches
   * {@linkcode DiskSpool.full} and holds its producer back) and, on a full disk, leaves
   * what does not fit to the caller ({@linkcode DiskSpool.appendUntilFull}).
   */
  policy?: SpoolPolicy;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** What {@linkcode DiskSpool.open} found from a previous process. */
export interface SpoolRecovery {
  /** Segment files found. */
  segments: number;
  /** Complete, not yet acknowledged records in them. */
  records: number;
  /** Their size in bytes. */
  bytes: number;
  /** Partially written last lines cut off. */
  partialLines: number;
}

/** Default for {@linkcode DiskSpoolOptions.maxBytes}: 256 MiB, Vector's minimum disk buffer. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

// New spools start numbering here so that prepend() has room below.
const _FIRST_ID = 1_000_000_000_000;
const _SEGMENT_NAME = /^(\d{16})\.jsonl$/;
const _ACK_FILE = "ack";

interface _Segment<T> {
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

/** A folder of JSON-lines segment files used as a bounded, crash-safe FIFO. */
export class DiskSpool<T> {
  #release: ReleaseSpool = () => Promise.resolve();
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
  readonly #segments: _Segment<T>[] = [];
  #tail: _Segment<T> | undefined;
  #nextId: number;
  #count = 0;
  #bytes = 0;
  #droppedRecords = 0;
  #skippedLines = 0;
  #dirty = false;
  #dirDirty = false;
  #syncing: Promise<void> | undefined;
  // Sealed segments closed before their data was fsynced: sync() reopens them for it.
  // (Closing at once, not after an async fsync, lets a dropped segment give its disk space
  // back before the next write: a full disk needs that.)
  readonly #unsynced = new Set<_Segment<T>>();
  readonly #fsyncIntervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #positionSaved = false;
  #lowestId: number;
  #writeErrors = 0;
  #lastWriteError: string | undefined;
  // Lowered once the disk fills up, so that a later drop_oldest gives back a small share.
  #segmentLimit: number;

  private constructor(
    dir: string,
    options: DiskSpoolOptions,
    recovered: _Segment<T>[],
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
    this.#segments.push(...recovered);
    for (const segment of recovered) {
      this.#count += segment.count - segment.acked;
      this.#bytes += segment.bytes;
    }
    this.#skippedLines = recovery.partialLines;
    this.#nextId = recovered.length > 0 ? recovered[recovered.length - 1].id + 1 : _FIRST_ID;
    this.#lowestId = recovered.length > 0 ? recovered[0].id : _FIRST_ID;
    this.#positionSaved = recovered.some((segment) => segment.acked > 0);
    this.#fsyncIntervalMs = options.fsyncIntervalMs ?? 500;
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
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SinkError(`Cannot open spool "${dir}": ${describeCause(error)}`, { cause: error });
    }
    const release = await claimSpool(dir);
    try {
      const { segments, recovery } = await _recover<T>(dir);
      const spool = new DiskSpool<T>(dir, options, segments, recovery);
      spool.#release = release;
      return spool;
    } catch (error) {
      await release();
      throw new SinkError(`Cannot open spool "${dir}": ${describeCause(error)}`, { cause: error });
    }
  }

  /** Records waiting (appended or recovered, not yet acknowledged nor dropped). */
  get count(): number {
    return this.#count;
  }

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Segment files on disk. */
  get segments(): number {
    return this.#segments.length;
  }

  /** Whether the spool holds `maxBytes` or more. */
  get full(): boolean {
    return this.#bytes >= this.maxBytes;
  }

  /** Records deleted because `maxBytes` was reached (policy `drop_oldest`). */
  get droppedRecords(): number {
    return this.#droppedRecords;
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
    const droppedBefore = this.#droppedRecords;
    this.#appendLines(records, false);
    return this.#droppedRecords - droppedBefore;
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
      const size = _utf8Length(line);
      const tailBytes = (this.#tail?.bytes ?? 0) + lineBytes;
      if (tailBytes > 0 && tailBytes + size > this.#segmentLimit) {
        flushLines();
        if (failed) break;
        this.#seal();
      }
      if (!keepOnFailure && this.policy === "drop_oldest" && !this.#makeRoom(lineBytes + size)) {
        // Nothing older is left to drop: this record goes.
        this.#droppedRecords++;
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
        this.#writeTail(lines, count);
        return true;
      } catch (error) {
        this.#writeErrors++;
        this.#lastWriteError = `Cannot write spool "${this.dir}": ${describeCause(error)}`;
        if (_isDiskFull(error)) {
          // Later segments are a 16th of what fit, so that a drop gives back a small share.
          this.#segmentLimit = Math.max(
            4096,
            Math.min(this.#segmentLimit, Math.floor(this.#bytes / 16)),
          );
          if (!keep && this.policy === "drop_oldest" && this.#dropOldestSegment()) continue;
        }
        if (!keep) {
          this.#droppedRecords += count;
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
    const droppedBefore = this.#droppedRecords;
    const text = records.map((record) => JSON.stringify(record) + "\n").join("");
    const bytes = this.#encoder.encode(text);
    const id = --this.#lowestId;
    const path = _segmentPath(this.dir, id);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
    } catch (error) {
      throw new SinkError(`Cannot write spool "${this.dir}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    try {
      _writeAll(file, bytes);
    } catch (error) {
      file.close();
      try {
        Deno.removeSync(path);
      } catch { /* a stray partial segment: recovery skips its last line */ }
      throw new SinkError(`Cannot write spool "${this.dir}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    file.close();
    this.#dirDirty = true;
    this.#armSync();
    const segment: _Segment<T> = {
      id,
      path,
      bytes: bytes.length,
      count: records.length,
      acked: 0,
      reading: false,
    };
    this.#unsynced.add(segment);
    this.#segments.unshift(segment);
    this.#count += records.length;
    this.#bytes += bytes.length;
    if (this.policy === "drop_oldest") this.#makeRoom(0);
    this.#savePosition();
    return this.#droppedRecords - droppedBefore;
  }

  /**
   * Up to `n` of the oldest records not yet acknowledged, without removing them (a peek:
   * called again before {@linkcode DiskSpool.ack}, it returns the same records). Reads
   * from one segment at a time, so a batch may be shorter than `n`; empty when the
   * spool is.
   */
  async readBatch(n: number): Promise<T[]> {
    this.#assertOpen();
    while (this.#segments.length > 0) {
      const head = this.#segments[0];
      if (head === this.#tail) this.#seal();
      if (head.records === undefined) {
        head.reading = true;
        await this.#load(head);
        if (this.#segments[0] !== head) continue; // dropped or prepended meanwhile
      }
      head.reading = true;
      if (head.acked >= head.count) {
        this.#remove(head);
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
    while (left > 0 && this.#segments.length > 0) {
      const head = this.#segments[0];
      if (head.records === undefined) {
        throw new RangeError("DiskSpool.ack() of records that were not read");
      }
      const take = Math.min(left, head.count - head.acked);
      head.acked += take;
      this.#count -= take;
      left -= take;
      if (head.acked >= head.count) this.#remove(head);
    }
    this.#savePosition();
  }

  /** Wait until everything appended so far is on disk (fsync of data and folder). */
  sync(): Promise<void> {
    // One fsync at a time; a caller arriving during one waits for a fresh one.
    const run = async () => {
      const unsynced = [...this.#unsynced];
      this.#unsynced.clear();
      for (const segment of unsynced) {
        if (!this.#segments.includes(segment)) continue; // deleted meanwhile
        try {
          const file = await Deno.open(segment.path, { read: true });
          try {
            await file.syncData();
          } finally {
            file.close();
          }
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      if (this.#dirty && this.#tail?.file) {
        this.#dirty = false;
        await this.#tail.file.syncData();
      }
      if (this.#dirDirty) {
        this.#dirDirty = false;
        const dir = await Deno.open(this.dir, { read: true });
        try {
          await dir.syncData();
        } finally {
          dir.close();
        }
      }
    };
    const previous = this.#syncing ?? Promise.resolve();
    const next = previous.catch(() => {}).then(run);
    this.#syncing = next;
    return next;
  }

  /** Fsync and close; the segment files stay for the next {@linkcode DiskSpool.open}. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.sync();
    this.#closed = true;
    this.#tail?.file?.close();
    if (this.#tail) this.#tail.file = undefined;
    this.#tail = undefined;
    await this.#release();
  }

  /**
   * Remember how far the oldest segment is acknowledged, in the `ack` file. Best effort
   * and without fsync: a stale position only means some records are delivered twice. A
   * position must never name a segment other than the head, or a recovery would skip
   * records that were never delivered: segment ids are never reused, and the file is
   * removed when the head has nothing acknowledged.
   */
  #savePosition(): void {
    const head = this.#segments[0];
    const path = `${this.dir}/${_ACK_FILE}`;
    try {
      if (head !== undefined && head.acked > 0) {
        Deno.writeTextFileSync(path, JSON.stringify({ segment: head.id, acked: head.acked }));
        this.#positionSaved = true;
      } else if (this.#positionSaved) {
        Deno.removeSync(path);
        this.#positionSaved = false;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#debug(`spool ${this.dir}: cannot save the ack position: ${describeCause(error)}`);
      }
      this.#positionSaved = false;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`Spool "${this.dir}" is closed`);
  }

  /** Write complete lines to the tail segment, beginning one when there is none. */
  #writeTail(lines: string, count: number): void {
    if (this.#tail === undefined) {
      const id = this.#nextId++;
      const path = _segmentPath(this.dir, id);
      const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
      this.#tail = { id, path, bytes: 0, count: 0, acked: 0, file, reading: false };
      this.#segments.push(this.#tail);
      this.#dirDirty = true;
      this.#armSync();
    }
    const bytes = this.#encoder.encode(lines);
    const tail = this.#tail;
    try {
      _writeAll(tail.file!, bytes);
    } catch (error) {
      if (tail.count === 0) {
        // Nothing of it is worth keeping: no empty segment file stays behind.
        this.#seal();
        throw error;
      }
      // Cut a partial write so the segment still ends with a whole line, and retry on the
      // same file later (a new segment per failed write would pile up empty files).
      try {
        tail.file!.truncateSync(tail.bytes);
        tail.file!.seekSync(tail.bytes, Deno.SeekMode.Start);
      } catch {
        this.#seal(); // the reader will skip the partial line
      }
      throw error;
    }
    this.#tail.bytes += bytes.length;
    this.#tail.count += count;
    this.#bytes += bytes.length;
    this.#count += count;
    this.#dirty = true;
    this.#armSync();
  }

  /** Stop appending to the tail: the next append begins a new segment. */
  #seal(): void {
    const tail = this.#tail;
    if (tail === undefined) return;
    this.#tail = undefined;
    tail.file!.close();
    tail.file = undefined;
    if (tail.count === 0) {
      this.#remove(tail); // an empty segment (its only write failed): delete it
    } else if (this.#dirty) {
      this.#unsynced.add(tail);
    }
    this.#dirty = false;
    this.#armSync();
  }

  /**
   * Delete oldest segments (the tail too: bytes in hand are newer than it) until `extra`
   * more bytes fit under `maxBytes`. Returns false when they still do not fit.
   */
  #makeRoom(extra: number): boolean {
    while (this.#bytes + extra > this.maxBytes) {
      if (!this.#dropOldestSegment()) return false;
    }
    return true;
  }

  /** Delete the oldest segment no reader uses (possibly the tail), counting its records. False when there is none. */
  #dropOldestSegment(): boolean {
    const victim = this.#segments.find((segment) => !segment.reading);
    if (victim === undefined) return false;
    const lost = victim.count - victim.acked;
    this.#droppedRecords += lost;
    this.#debug(
      `spool ${this.dir}: full (${this.#bytes} bytes); dropped segment ${victim.id} with ${lost} records`,
    );
    if (victim === this.#tail) this.#seal();
    this.#remove(victim);
    return true;
  }

  /** Forget a segment and delete its file. */
  #remove(segment: _Segment<T>): void {
    const index = this.#segments.indexOf(segment);
    if (index < 0) return;
    this.#segments.splice(index, 1);
    this.#count -= segment.count - segment.acked;
    this.#bytes -= segment.bytes;
    segment.records = undefined;
    this.#unsynced.delete(segment);
    try {
      Deno.removeSync(segment.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#debug(`spool ${this.dir}: cannot delete ${segment.path}: ${describeCause(error)}`);
      }
    }
    this.#dirDirty = true;
    this.#armSync();
  }

  /** Fsync within fsyncIntervalMs of the first unsynced change; no timer while all is synced. */
  #armSync(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.sync().catch((error) => this.#debug(`spool ${this.dir}: fsync failed: ${error}`));
    }, this.#fsyncIntervalMs);
    Deno.unrefTimer(timer); // a forgotten close() must not keep wrapp alive
    this.#timer = timer;
  }

  /** Read and parse a sealed segment; lines that are not JSON are counted and left out. */
  async #load(segment: _Segment<T>): Promise<void> {
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
    if (bad > 0) {
      this.#skippedLines += bad;
      this.#debug(`spool ${this.dir}: ${bad} unreadable lines in ${segment.path} skipped`);
    }
    // Unreadable lines no longer wait; a recovered position past the end is clamped.
    const waitingBefore = segment.count - segment.acked;
    segment.count = records.length;
    segment.acked = Math.min(segment.acked, segment.count);
    if (this.#segments.includes(segment)) {
      this.#count -= waitingBefore - (segment.count - segment.acked);
    }
    segment.records = records;
  }
}

/** Whether a write failed because the file system has no room (ENOSPC, or a quota: EDQUOT). */
function _isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

function _segmentPath(dir: string, id: number): string {
  return `${dir}/${String(id).padStart(16, "0")}.jsonl`;
}

function _writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** UTF-8 byte length of a string (lone surrogates count as the 3 bytes of U+FFFD). */
function _utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 4 bytes for 2 code units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** Scan `dir`: keep complete lines of each segment, cut a partial last line, apply the ack position. */
async function _recover<T>(
  dir: string,
): Promise<{ segments: _Segment<T>[]; recovery: SpoolRecovery }> {
  const ids: number[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.isFile ? _SEGMENT_NAME.exec(entry.name) : null;
    if (match) ids.push(Number(match[1]));
  }
  ids.sort((a, b) => a - b);
  const segments: _Segment<T>[] = [];
  const recovery: SpoolRecovery = { segments: 0, records: 0, bytes: 0, partialLines: 0 };
  for (const id of ids) {
    const path = _segmentPath(dir, id);
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
    const ack = JSON.parse(await Deno.readTextFile(`${dir}/${_ACK_FILE}`)) as {
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
