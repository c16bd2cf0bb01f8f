/**
 * What the Redis sink says when it starts: a spool it cannot use, the events a previous
 * wrapp left in the spool (now replayed), and those it lost (killed while they were only
 * in memory).
 *
 * @module
 */

import type { DiskSpool, SpoolPolicy } from "../disk_spool.ts";
import type { DeliveryLedger } from "../delivery_ledger.ts";
import type { SinkCounters } from "./sink_parts.ts";
import type { SinkStatus } from "./sink_status.ts";
import type { SpooledEvent } from "./spooled_event.ts";
import { memoryOnlyMessage, previousLossMessage } from "./sink_messages.ts";

/** What {@linkcode reportAtStart} looks at. */
export interface StartState {
  /** The spool, if any. */
  spool: DiskSpool<SpooledEvent> | undefined;
  /** Why the spool folder cannot be used, if it cannot. */
  spoolProblem: string | undefined;
  /** The delivery ledger. */
  ledger: DeliveryLedger;
  /** The service name. */
  streamName: string;
  /** The spool policy. */
  policy: SpoolPolicy;
  /** Events the memory queue holds. */
  memoryLimit: number;
}

/** Queue the status events of a start, and count what the spool holds and what was lost. */
export function reportAtStart(
  state: StartState,
  statuses: SinkStatus,
  counters: SinkCounters,
): void {
  if (state.spoolProblem !== undefined) {
    const { message, fields } = memoryOnlyMessage(
      state.spoolProblem,
      state.policy,
      state.memoryLimit,
    );
    statuses.status("warning", message, fields, "memory");
  }
  const spool = state.spool;
  if (spool && (spool.count > 0 || spool.recovery.partialLines > 0)) {
    counters.recovered = spool.count + spool.recovery.partialLines;
    counters.accepted += counters.recovered;
    const { records, partialLines } = spool.recovery;
    statuses.status(
      partialLines > 0 ? "warning" : "info",
      `Replaying ${records} events left in spool "${spool.dir}" by a previous run` +
        (partialLines > 0 ? `; ${partialLines} partially written line skipped` : ""),
      { recovered: records, skipped_lines: partialLines },
    );
  }
  _reportPreviousLoss(state, statuses, counters);
}

/** Say what the previous wrapp lost (it was killed with events only in memory), with the seq ranges. */
function _reportPreviousLoss(
  state: StartState,
  statuses: SinkStatus,
  counters: SinkCounters,
): void {
  const ledger = state.ledger;
  if (ledger.unreadable !== undefined) {
    statuses.status(
      "warning",
      `Cannot read delivery ledger "${ledger.path}": ${ledger.unreadable}; sequence numbers start again at 1`,
      { error: ledger.unreadable },
    );
  }
  const loss = previousLossMessage(ledger, state.streamName);
  if (loss === undefined) return;
  counters.lostBefore = Number(loss.fields.lost);
  const seq = statuses.status("warning", loss.message, loss.fields);
  // Until this report is safe, the loss stays in the ledger for the next wrapp to tell.
  if (seq !== undefined) ledger.reportedAs(seq);
}
