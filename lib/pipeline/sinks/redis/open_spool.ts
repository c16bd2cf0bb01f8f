/**
 * Opening what keeps the Redis sink's events safe across a kill: the disk spool and the
 * delivery ledger in its folder. A full, read-only or failing disk is not an error: the
 * sink goes on with memory only and says why.
 *
 * @module
 */

import { DEFAULT_SPOOL_MAX_BYTES, DiskSpool } from "../disk_spool.ts";
import { DeliveryLedger } from "../delivery_ledger.ts";
import type { RedisSinkOptions } from "./options.ts";
import type { SpooledEvent } from "./spooled_event.ts";

/** What {@linkcode openSpool} found. */
export interface OpenedSpool {
  /** The spool; none without `spoolDir`, or on a disk that takes none. */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** The ledger: in the spool folder when there is one, else in memory. */
  ledger: DeliveryLedger;
  /** Why the spool folder cannot be used (a disk fault), if it cannot. */
  spoolProblem: string | undefined;
}

// Errors that make a spool folder unusable for now (full, read-only, failing disk) rather than misconfigured.
const _DISK_FAULTS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);

/**
 * Open the spool and the ledger of `options.spoolDir`. Throws a `SinkError` when
 * the folder cannot be used for another reason (another wrapp holds it, permission denied).
 */
export async function openSpool(options: RedisSinkOptions): Promise<OpenedSpool> {
  let spool: DiskSpool<SpooledEvent> | undefined;
  let spoolProblem: string | undefined;
  if (options.spoolDir !== undefined) {
    try {
      spool = await DiskSpool.open<SpooledEvent>(options.spoolDir, {
        maxBytes: options.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES,
        policy: options.policy,
        debug: options.debug && ((message) => options.debug!(`redis: ${message}`)),
      });
    } catch (error) {
      if (!_isDiskFault(error)) throw error;
      spoolProblem = (error as Error).message;
    }
  }
  let ledger: DeliveryLedger;
  try {
    ledger = DeliveryLedger.open(spoolProblem === undefined ? options.spoolDir : undefined);
  } catch (error) {
    if (!_isDiskFault(error)) {
      await spool?.close();
      throw error;
    }
    // A disk that takes no ledger: what a kill -9 loses then shows only as a seq gap.
    ledger = DeliveryLedger.open(undefined);
  }
  return { spool, ledger, spoolProblem };
}

/** A full, read-only or failing disk (the error or its cause says so), not a refusal. */
function _isDiskFault(error: unknown): boolean {
  const code = ((error as Error).cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && _DISK_FAULTS.has(code);
}
