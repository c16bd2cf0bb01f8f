/**
 * The fatal signals the crash watcher saw, with their stacks: kept while a service
 * crashes (the last few), and looked up, or waited for, when its crash is reported.
 *
 * @module
 */

import type { CrashFrame } from "./crash_report.ts";

/** One fatal signal the programs saw, with the stack of its thread. */
export interface FatalSignalRecord {
  /** The process (thread group). */
  pid: number;
  /** The thread the signal was generated for. */
  tid: number;
  /** The signal number. */
  signal: number;
  /** The kernel's TRACE_SIGNAL_* result: 0 delivered, 1 ignored, 2 already pending… */
  result: number;
  /** Code addresses, innermost frame first. */
  addresses: number[];
  /** The symbolized frames (resolved when the record arrived, while the maps were fresh). */
  frames: Promise<CrashFrame[]>;
}

/** How many fatal signal records are kept (a service crashing in a loop). */
const _MAX_RECORDS = 64;

/** The last fatal signal records, oldest first; see the module documentation. */
export class FatalSignalRecords {
  readonly #records: FatalSignalRecord[] = [];
  #arrived = Promise.withResolvers<void>();
  #closed = false;

  /** The records kept, oldest first (the last 64). */
  get list(): readonly FatalSignalRecord[] {
    return this.#records;
  }

  /** Keep `record` (dropping the oldest past 64) and wake whoever waits for one. */
  add(record: FatalSignalRecord): void {
    this.#records.push(record);
    if (this.#records.length > _MAX_RECORDS) this.#records.shift();
    const arrived = this.#arrived;
    this.#arrived = Promise.withResolvers<void>();
    arrived.resolve();
  }

  /** The last record of `pid` for `signal`, else its last record of any signal. */
  find(pid: number, signal: number): FatalSignalRecord | undefined {
    const mine = this.#records.filter((r) => r.pid === pid);
    return mine.findLast((r) => r.signal === signal) ?? mine.at(-1);
  }

  /**
   * {@linkcode FatalSignalRecords.find}, waiting up to `waitMs` for a record of `pid` to
   * arrive (not once the records are closed).
   */
  async waitFor(
    pid: number,
    signal: number,
    waitMs: number,
  ): Promise<FatalSignalRecord | undefined> {
    const deadline = performance.now() + waitMs;
    let record = this.find(pid, signal);
    while (record === undefined && !this.#closed) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#arrived.promise,
        new Promise<void>((resolve) => timer = setTimeout(resolve, left)),
      ]);
      clearTimeout(timer);
      record = this.find(pid, signal);
    }
    return record;
  }

  /** No more waiting: wake every waiter now. Records can still be added and found. */
  close(): void {
    this.#closed = true;
    this.#arrived.resolve();
  }
}
