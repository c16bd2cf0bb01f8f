/**
 * The `ack` file of a `DiskSpool` (disk_spool.ts): how far its oldest segment is
 * acknowledged, so that after a crash a recovery (`recoverSegments`, spool_files.ts) skips
 * what was delivered instead of sending it again.
 *
 * @module
 */

import { describeCause } from "../../core/errors.ts";
import type { DebugLog } from "../../core/debug.ts";
import { ACK_FILE, type SpoolSegment } from "./spool_files.ts";

/** The `ack` file of one spool folder; see the module documentation. */
export class SpoolPosition {
  readonly #dir: string;
  readonly #debug: DebugLog;
  // Whether the file may be there, so a head with nothing acknowledged removes it.
  #saved: boolean;

  /** The `ack` file in `dir`; `saved` when the recovered oldest segment is acknowledged in part. */
  constructor(dir: string, saved: boolean, debug: DebugLog) {
    this.#dir = dir;
    this.#saved = saved;
    this.#debug = debug;
  }

  /**
   * Remember how far `head`, the oldest segment, is acknowledged. Best effort
   * and without fsync: a stale position only means some records are delivered twice. A
   * position must never name a segment other than the head, or a recovery would skip
   * records that were never delivered: segment ids are never reused, and the file is
   * removed when the head has nothing acknowledged.
   */
  save(head: SpoolSegment<unknown> | undefined): void {
    const path = `${this.#dir}/${ACK_FILE}`;
    try {
      if (head !== undefined && head.acked > 0) {
        Deno.writeTextFileSync(path, JSON.stringify({ segment: head.id, acked: head.acked }));
        this.#saved = true;
      } else if (this.#saved) {
        Deno.removeSync(path);
        this.#saved = false;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#debug(`spool ${this.#dir}: cannot save the ack position: ${describeCause(error)}`);
      }
      this.#saved = false;
    }
  }
}
