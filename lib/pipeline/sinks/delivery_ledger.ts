/**
 * The sequence numbers of a service's events and which of them only memory holds, kept in
 * a small file so that a wrapp killed with `kill -9` cannot lose events silently.
 *
 * Every event the Redis sink accepts gets the next number ({@linkcode DeliveryLedger.next}),
 * continuing across restarts of wrapp. While an event waits in the sink's memory queue it is
 * "held"; it is released once Redis acknowledged it, it is in the spool, or its drop was
 * counted. The file `<spool dir>/ledger` holds the highest number given, the held ranges
 * and the range of the batch being sent (held until Redis acknowledges it):
 *
 * ```
 * wrapp delivery ledger 1
 * accepted 121068
 * held 99292-121068
 * sending 99292-101291
 * ```
 *
 * It is rewritten in place (one `pwrite`, else a seek and a write; no fsync; its text is
 * `ledger_text.ts`'s) on every change, so after a `kill -9` the page cache has the state of
 * the moment of the kill: the held ranges are exactly the events that died with the process.
 * A caller that is about to make another change may defer one
 * ({@linkcode DeliveryLedger.nextHeld} with `defer`), so the two cost one write; it then
 * writes (or {@linkcode DeliveryLedger.flush}es) before it waits on anything, and the file
 * never lags behind while events wait. A release after Redis acknowledged a batch may wait
 * for the next write or the fsync timer ({@linkcode DeliveryLedger.sent} with `lazy`): the
 * file may say too much, never too little. It is fsynced at most every `syncIntervalMs`
 * (500 ms) and only after a change: an idle ledger arms no timer. The next wrapp reads it in
 * {@linkcode DeliveryLedger.open}, reports {@linkcode DeliveryLedger.lost} and continues
 * numbering after `accepted`. Until the event carrying that report is itself safe
 * ({@linkcode DeliveryLedger.reportedAs}), the loss stays in the file as `unreported`, so a
 * wrapp killed again before it could tell reports it once more, with its own losses.
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";
import { openOverwriter, type Overwriter } from "../../core/overwriter.ts";
import { intersectRange, mergeRanges, type SeqRange } from "./seq_ranges.ts";
import { startTimer, type Timer } from "../../core/timers.ts";
import { type LedgerState, ledgerTextBound, parseLedger, writeLedgerText } from "./ledger_text.ts";

export { countRanges, formatRanges, type SeqRange } from "./seq_ranges.ts";
export { parseLedger } from "./ledger_text.ts";

/** Options of {@linkcode DeliveryLedger.open}. */
export interface DeliveryLedgerOptions {
  /** Longest time between a change and its fsync, in ms. Default 500. */
  syncIntervalMs?: number;
}

/** The file name of the ledger inside the spool folder. */
export const LEDGER_FILE = "ledger";

const _EMPTY: LedgerState = { accepted: 0, held: [] };
const _SPACE = 32;

/** See the module documentation. */
export class DeliveryLedger {
  /** The ledger file; undefined for a ledger that only numbers (no spool folder). */
  readonly path: string | undefined;
  /**
   * Ranges the previous process still held when it ended (events it lost), with any loss
   * it had not yet reported itself.
   */
  readonly lost: readonly SeqRange[];
  /**
   * Of {@linkcode lost}, the range of the batch it was sending: Redis may have written
   * some of these after all (a reply that never came back), or none.
   */
  readonly lostSending: SeqRange | undefined;
  /** Why the previous ledger could not be read, if it could not (numbering restarts). */
  readonly unreadable: string | undefined;

  #accepted: number;
  #held: [number, number][] = [];
  #sending: SeqRange | undefined;
  #unreported: readonly SeqRange[];
  #reportSeq: number | undefined;
  #file: Deno.FsFile | undefined;
  // The same file, rewritten by one pwrite where FFI allows (else #file seeks and writes).
  #overwriter: Overwriter | undefined;
  #written = 0;
  // A change not yet in the file (see nextHeld's `defer`).
  #pending = false;
  // A release not yet in the file (see sent's `lazy`): written with the next change, or by
  // the fsync timer.
  #lazy = false;
  #bytes = new Uint8Array(256);
  #syncTimer: Timer | undefined;
  readonly #syncIntervalMs: number;

  private constructor(
    path: string | undefined,
    file: Deno.FsFile | undefined,
    previous: LedgerState & { unreadable?: string },
    options: DeliveryLedgerOptions,
  ) {
    this.path = path;
    this.#file = file;
    this.#overwriter = path === undefined ? undefined : openOverwriter(path);
    this.#accepted = previous.accepted;
    this.lost = mergeRanges([...(previous.unreported ?? []), ...previous.held]);
    this.#unreported = this.lost;
    this.lostSending = previous.sending && intersectRange(previous.sending, previous.held);
    this.unreadable = previous.unreadable;
    this.#syncIntervalMs = options.syncIntervalMs ?? 500;
  }

  /**
   * Open (or create) the ledger in folder `dir`, read what the previous process left and
   * write a fresh state (its losses are now this process's to report). Without `dir`, a
   * ledger that numbers from 1 and keeps nothing. Throws {@linkcode SinkError} when the
   * file cannot be opened or written.
   */
  static open(dir: string | undefined, options: DeliveryLedgerOptions = {}): DeliveryLedger {
    if (dir === undefined) return new DeliveryLedger(undefined, undefined, _EMPTY, options);
    const path = `${dir}/${LEDGER_FILE}`;
    let previous: LedgerState & { unreadable?: string } = _EMPTY;
    try {
      previous = parseLedger(Deno.readTextFileSync(path));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        previous = { ..._EMPTY, unreadable: describeCause(error) };
      }
    }
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (error) {
      throw new SinkError(`Cannot open delivery ledger "${path}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    const ledger = new DeliveryLedger(path, file, previous, options);
    ledger.#write();
    return ledger;
  }

  /** The highest sequence number given so far (by this process or an earlier one). */
  get accepted(): number {
    return this.#accepted;
  }

  /** How many events are held (only in memory) now. */
  get heldCount(): number {
    let count = 0;
    for (const [first, last] of this.#held) count += last - first + 1;
    return count;
  }

  /** The held ranges now, oldest first. */
  get held(): readonly SeqRange[] {
    return this.#held.map(([first, last]) => [first, last] as const);
  }

  /** Reserve `count` new numbers and return the first; not held (see {@linkcode hold}). */
  next(count = 1): number {
    const first = this.#accepted + 1;
    this.#accepted += count;
    if (count > 0) this.#write();
    return first;
  }

  /**
   * Reserve `count` new numbers, held in memory from now on; returns the first. With
   * `defer`, the file is not written yet: the caller makes another change or calls
   * {@linkcode DeliveryLedger.flush} before it awaits anything (the events are then only
   * in memory, as they were an instant before, when they were read).
   */
  nextHeld(count: number, options: { defer?: boolean } = {}): number {
    const first = this.#accepted + 1;
    this.#accepted += count;
    if (count > 0) {
      const tail = this.#held.at(-1);
      if (tail !== undefined && tail[1] === first - 1) tail[1] = this.#accepted;
      else this.#held.push([first, this.#accepted]);
      if (options.defer && this.#file !== undefined) this.#pending = true;
      else this.#write();
    }
    return first;
  }

  /**
   * Release the numbers `seqs` (ascending, as a batch leaves the memory queue): they are in
   * Redis, in the spool, or counted as dropped. Numbers not held are ignored.
   */
  release(seqs: Iterable<number | undefined>): void {
    this.#release(seqs, false);
  }

  /**
   * The batch being sent ({@linkcode DeliveryLedger.sending}) has its replies: `seqs`, the
   * part of it that is done, are released and no batch is being sent. One write for both,
   * or with `lazy` none yet: the next change writes it, or the fsync timer within
   * `syncIntervalMs`. A release may wait because the file then only says too much (a
   * `kill -9` meanwhile reports a delivered batch as one Redis may have), never too little;
   * at 1000 lines/s it saves a seek and a write per line.
   */
  sent(seqs: Iterable<number | undefined>, options: { lazy?: boolean } = {}): void {
    const wasSending = this.#sending !== undefined;
    this.#sending = undefined;
    this.#release(seqs, wasSending, options.lazy === true);
  }

  /** Write a change deferred by {@linkcode DeliveryLedger.nextHeld}, if any. */
  flush(): void {
    if (this.#pending) this.#write();
  }

  #release(seqs: Iterable<number | undefined>, changed: boolean, lazy = false): void {
    let first = -1;
    let last = -2;
    for (const seq of seqs) {
      if (seq === undefined) continue;
      if (seq === last + 1) {
        last = seq;
        continue;
      }
      if (first >= 0) changed = this.#releaseRange(first, last) || changed;
      first = last = seq;
    }
    if (first >= 0) changed = this.#releaseRange(first, last) || changed;
    if (this.#reportSeq !== undefined && changed && !this.#isHeld(this.#reportSeq)) {
      this.#reported(); // writes
    } else if (changed && lazy && this.#file !== undefined) {
      this.#lazy = true;
      this.#armSync();
    } else if (changed) {
      this.#write();
    }
  }

  /**
   * {@linkcode lost} is told by the event numbered `seq`: once it is no longer held (in
   * Redis, in the spool or counted), the loss is reported and leaves the file.
   */
  reportedAs(seq: number): void {
    this.#reportSeq = seq;
    if (!this.#isHeld(seq)) this.#reported();
  }

  /**
   * Note the held numbers from `first` to `last` as the batch being sent now, or none
   * (`undefined`) once its replies are in.
   */
  sending(range: SeqRange | undefined): void {
    if (range === undefined && this.#sending === undefined) return;
    this.#sending = range;
    this.#write();
  }

  /** Write the state, fsync it and close the file. Idempotent. */
  async close(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    this.#write();
    this.#syncTimer?.clear();
    this.#syncTimer = undefined;
    this.#file = undefined;
    this.#overwriter?.close();
    this.#overwriter = undefined;
    try {
      await file.syncData();
    } catch { /* nothing left to do about it: the state is in the page cache */ }
    file.close();
  }

  #isHeld(seq: number): boolean {
    return this.#held.some(([first, last]) => seq >= first && seq <= last);
  }

  #reported(): void {
    this.#reportSeq = undefined;
    this.#unreported = [];
    this.#write();
  }

  #releaseRange(from: number, to: number): boolean {
    const held = this.#held;
    let changed = false;
    for (let i = 0; i < held.length; i++) {
      const range = held[i];
      if (range[1] < from) continue;
      if (range[0] > to) break;
      changed = true;
      if (from <= range[0] && to >= range[1]) {
        held.splice(i--, 1);
      } else if (from <= range[0]) {
        range[0] = to + 1;
      } else if (to >= range[1]) {
        range[1] = from - 1;
      } else {
        held.splice(i + 1, 0, [to + 1, range[1]]);
        range[1] = from - 1;
        break;
      }
    }
    return changed;
  }

  /** Rewrite the file in place (page cache only), and arm one fsync if none is pending. */
  #write(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#pending = false;
    this.#lazy = false;
    // Written as bytes, not as a string then encoded: this runs once per batch sent, which
    // at 1000 lines/s is once per line.
    const state: LedgerState = {
      accepted: this.#accepted,
      held: this.#held,
      sending: this.#sending,
      unreported: this.#unreported,
    };
    const bound = Math.max(ledgerTextBound(state), this.#written);
    if (this.#bytes.length < bound) this.#bytes = new Uint8Array(2 * bound);
    const out = this.#bytes;
    const at = writeLedgerText(out, state);
    // Pad over a longer previous state instead of truncating: one syscall less per change.
    if (at < this.#written) out.fill(_SPACE, at, this.#written);
    this.#written = Math.max(at, this.#written);
    const bytes = out.subarray(0, this.#written);
    try {
      if (this.#overwriter) {
        this.#overwriter.write(bytes);
      } else {
        file.seekSync(0, Deno.SeekMode.Start);
        let done = 0;
        while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
      }
    } catch {
      return; // a full or failing disk: the spool reports it; numbering goes on in memory
    }
    this.#armSync();
  }

  /** One fsync within `syncIntervalMs`, writing a lazy release first. */
  #armSync(): void {
    if (this.#syncTimer !== undefined) return;
    this.#syncTimer = startTimer(
      () => {
        if (this.#lazy) this.#write();
        this.#syncTimer = undefined; // after the write, which must not arm another
        this.#file?.syncData().catch(() => {});
      },
      this.#syncIntervalMs,
      true,
    );
  }
}
