/**
 * {@linkcode SpoolSync}: when and what a `DiskSpool` (disk_spool.ts) fsyncs — sealed segments
 * closed before their data reached the disk, the tail segment, and the folder itself —
 * at most `fsyncIntervalMs` after the first unsynced change, with no timer while
 * everything is synced.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import { startTimer, type Timer } from "../../core/timers.ts";

/** A segment file of the spool, as far as fsync cares. */
export interface SyncedFile {
  /** Its path. */
  readonly path: string;
}

/** What {@linkcode SpoolSync} asks of its spool. */
export interface SpoolSyncHooks<S extends SyncedFile> {
  /** Whether `segment` is still part of the spool (not deleted meanwhile). */
  isLive(segment: S): boolean;
  /** The open tail segment, if any. */
  tailFile(): Deno.FsFile | undefined;
}

/** The fsync bookkeeping of one spool folder; see the module documentation. */
export class SpoolSync<S extends SyncedFile> {
  /** Data was written to the tail segment since its last fsync. */
  tailDirty = false;
  /** Files were created or deleted in the folder since its last fsync. */
  dirDirty = false;
  readonly #dir: string;
  readonly #intervalMs: number;
  readonly #debug: DebugLog;
  readonly #hooks: SpoolSyncHooks<S>;
  // Sealed segments closed before their data was fsynced: sync() reopens them for it.
  // (Closing at once, not after an async fsync, lets a dropped segment give its disk space
  // back before the next write: a full disk needs that.)
  readonly #unsynced = new Set<S>();
  #syncing: Promise<void> | undefined;
  #timer: Timer | undefined;
  #stopped = false;

  /** Fsync bookkeeping for the spool in `dir`, syncing within `intervalMs` of a change. */
  constructor(dir: string, intervalMs: number, debug: DebugLog, hooks: SpoolSyncHooks<S>) {
    this.#dir = dir;
    this.#intervalMs = intervalMs;
    this.#debug = debug;
    this.#hooks = hooks;
  }

  /** `segment` was closed (sealed, or written whole) before its data was fsynced. */
  unsynced(segment: S): void {
    this.#unsynced.add(segment);
  }

  /** `segment` was deleted: nothing of it to fsync any more. */
  forget(segment: S): void {
    this.#unsynced.delete(segment);
  }

  /** Something changed: fsync within the interval (one timer for any number of changes). */
  arm(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    // Unref'd: a forgotten close() must not keep wrapp alive.
    this.#timer = startTimer(
      () => {
        this.#timer = undefined;
        this.sync().catch((error) => this.#debug(`spool ${this.#dir}: fsync failed: ${error}`));
      },
      this.#intervalMs,
      true,
    );
  }

  /** Drop the pending timer (`DiskSpool.close` syncs itself). */
  cancel(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  /** No more timers: the spool is closed. */
  stop(): void {
    this.#stopped = true;
  }

  /** Wait until everything appended so far is on disk (fsync of data and folder). */
  sync(): Promise<void> {
    // One fsync at a time; a caller arriving during one waits for a fresh one.
    const previous = this.#syncing ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#run());
    this.#syncing = next;
    return next;
  }

  async #run(): Promise<void> {
    const unsynced = [...this.#unsynced];
    this.#unsynced.clear();
    for (const segment of unsynced) {
      if (!this.#hooks.isLive(segment)) continue; // deleted meanwhile
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
    const tail = this.#hooks.tailFile();
    if (this.tailDirty && tail) {
      this.tailDirty = false;
      await tail.syncData();
    }
    if (this.dirDirty) {
      this.dirDirty = false;
      const dir = await Deno.open(this.#dir, { read: true });
      try {
        await dir.syncData();
      } finally {
        dir.close();
      }
    }
  }
}
