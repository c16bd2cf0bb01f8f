/**
 * The texts of the Redis sink's own status events: an outage and its end, drops, a
 * spool that cannot be used, and what the previous wrapp lost.
 *
 * @module
 */

import type { StatusEvent } from "../../../core/event.ts";
import type { SpoolPolicy } from "../disk_spool.ts";
import { countRanges, type DeliveryLedger, formatRanges } from "../delivery_ledger.ts";

/** A status event's text and fields. */
export interface SinkMessage {
  /** The text. */
  message: string;
  /** Its fields. */
  fields: StatusEvent["fields"];
}

/** No spool on a faulty disk: events wait in memory, up to `memoryLimit`, then `policy` acts. */
export function memoryOnlyMessage(
  problem: string,
  policy: SpoolPolicy,
  memoryLimit: number,
): SinkMessage {
  const limit = policy === "block"
    ? `up to ${memoryLimit} events, then the service's output is held back`
    : `up to ${memoryLimit} events, then the oldest are dropped`;
  return {
    message:
      `${problem}: events wait in memory only (${limit}); what waits is lost if wrapp is killed`,
    fields: { error: problem, spool: "none" },
  };
}

/** What `dropped` events went to: a failed spool write, a full spool, or a full memory queue. */
export function dropsMessage(
  dropped: number,
  spool: { dir: string; maxBytes: number; lastWriteError?: string } | undefined,
  writeFailed: boolean,
  memoryLimit: number,
): string {
  return writeFailed
    ? `Redis sink dropped ${dropped} waiting events: ${spool!.lastWriteError}`
    : `Redis sink dropped the ${dropped} oldest waiting events: ` +
      (spool
        ? `spool "${spool.dir}" is full (${spool.maxBytes} bytes)`
        : `the memory queue is full (${memoryLimit} events)`);
}

/**
 * What the previous wrapp of `streamName` lost (it was killed with events only in memory),
 * with the seq ranges; `undefined` when it lost nothing.
 */
export function previousLossMessage(
  ledger: DeliveryLedger,
  streamName: string,
): SinkMessage | undefined {
  if (ledger.lost.length === 0) return undefined;
  const lost = countRanges(ledger.lost);
  const ranges = formatRanges(ledger.lost);
  const sending = ledger.lostSending;
  const maybe = sending ? countRanges([sending]) : 0;
  return {
    message:
      `The previous wrapp of "${streamName}" ended before ${lost} events reached Redis or the spool: they are lost (seq ${ranges})` +
      (sending
        ? `; of these, the ${maybe} of seq ${
          formatRanges([sending])
        } were being sent and may be in Redis after all`
        : ""),
    fields: {
      lost,
      lost_seq: ranges,
      lost_first: ledger.lost[0][0],
      lost_last: ledger.lost.at(-1)![1],
      ...(sending ? { maybe_delivered: maybe, maybe_delivered_seq: formatRanges([sending]) } : {}),
    },
  };
}
