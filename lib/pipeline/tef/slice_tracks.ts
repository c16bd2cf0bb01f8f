/**
 * Where complete (`X`) slices go on their tracks so that none overlaps the one before it
 * on the same track, as Perfetto sees them.
 *
 * Timestamps are whole microseconds: epoch microseconds are ~1.8e15, where a double
 * cannot hold a fraction of a µs exactly, and Perfetto turns `ts` and `dur` into ns
 * separately and adds them — so fractional slices placed back to back would seem to
 * overlap by up to 0.25 µs. A slice starts no earlier than the previous one ended and
 * lasts at least as long as what it shows (rounded up).
 *
 * @module
 */

/** The end of the latest slice of each track. */
export class SliceTracks {
  readonly #lastEnd = new Map<string, number>();

  /** `ts` and `dur` (whole µs) for a slice on `track` that began at `startUs` and lasted `durationNs`. */
  place(track: string, startUs: number, durationNs: number): { ts: number; dur: number } {
    const ts = Math.max(Math.floor(startUs), this.#lastEnd.get(track) ?? -Infinity);
    const dur = Math.max(1, Math.ceil(durationNs / 1000));
    this.#lastEnd.set(track, ts + dur);
    return { ts, dur };
  }
}
