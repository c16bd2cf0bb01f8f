/**
 * The rules of Perfetto's JSON importer across the slices of one track: `B`/`E` balance
 * per (pid, tid) in file order, an `E` never earlier than its `B`, and slices (`B`/`E`
 * pairs and `X`) that nest properly, none overlapping another without containing it.
 *
 * @module
 */

/** A slice on one track, for the nesting check; times in integer ns like Perfetto's. */
interface _Slice {
  readonly index: number;
  readonly label: string;
  readonly start: bigint;
  readonly end: bigint;
}

interface _Track {
  readonly pid: number;
  readonly tid: number;
  /** Open `B` events, innermost last. */
  readonly open: { index: number; label: string; ts: number }[];
  readonly slices: _Slice[];
}

/** A slice event whose fields passed the per-event checks (numeric `ts`, `dur`, `pid`, `tid`). */
export interface SliceEvent {
  /** 0-based index of the event in the trace. */
  readonly index: number;
  /** How messages name it: `B event "run"`. */
  readonly label: string;
  readonly ph: "B" | "E" | "X";
  readonly pid: number;
  readonly tid: number;
  /** µs. */
  readonly ts: number;
  /** µs; only on `X`. */
  readonly dur?: number;
}

/**
 * Collects the slices of a trace, track by track, in file order: {@linkcode add} each
 * `B`, `E` and `X` event, then {@linkcode finish}.
 */
export class PerfettoSliceCheck {
  readonly #tracks = new Map<string, _Track>();

  /** Take one slice event; `bad` reports a problem with it (an `E` without its `B`). */
  add(event: SliceEvent, bad: (problem: string) => void): void {
    const { index, label, ts } = event;
    const track = this.#track(event.pid, event.tid);
    if (event.ph === "B") {
      track.open.push({ index, label, ts });
    } else if (event.ph === "E") {
      const begin = track.open.pop();
      if (!begin) {
        bad(`on pid ${track.pid} tid ${track.tid} has no matching B`);
      } else if (ts < begin.ts) {
        bad(
          `on pid ${track.pid} tid ${track.tid} at ts ${ts} is before its B ` +
            `(event ${begin.index}, ts ${begin.ts})`,
        );
      } else {
        track.slices.push({
          index: begin.index,
          label: begin.label,
          start: _ns(begin.ts),
          end: _ns(ts),
        });
      }
    } else {
      const start = _ns(ts);
      track.slices.push({ index, label, start, end: start + _ns(event.dur as number) });
    }
  }

  /** Report, track by track, each `B` never ended and each slice overlapping without nesting. */
  finish(report: (text: string) => void): void {
    for (const track of this.#tracks.values()) {
      for (const begin of track.open) {
        report(
          `event ${begin.index}: ${begin.label} on pid ${track.pid} tid ${track.tid} is never ended`,
        );
      }
      _checkNesting(track, report);
    }
  }

  #track(pid: number, tid: number): _Track {
    const key = `${pid}/${tid}`;
    let track = this.#tracks.get(key);
    if (!track) {
      track = { pid, tid, open: [], slices: [] };
      this.#tracks.set(key, track);
    }
    return track;
  }
}

/**
 * Report slices on one track that overlap without nesting. Sorting by start, longest
 * first, puts every parent before its children; a stack of open slices then finds any
 * slice that starts inside another and ends after it.
 */
function _checkNesting(track: _Track, report: (text: string) => void): void {
  const order = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
  const slices = track.slices.sort((a, b) =>
    order(a.start, b.start) || order(b.end, a.end) || a.index - b.index
  );
  const stack: _Slice[] = [];
  for (const slice of slices) {
    while (stack.length > 0 && stack[stack.length - 1].end <= slice.start) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent && slice.end > parent.end) {
      report(
        `event ${slice.index}: ${slice.label} (${_span(slice)}) overlaps event ${parent.index}: ` +
          `${parent.label} (${
            _span(parent)
          }) on pid ${track.pid} tid ${track.tid} without nesting in it`,
      );
      continue; // Keep the earlier slice as the reference for the ones that follow.
    }
    stack.push(slice);
  }
}

/**
 * µs → integer ns, as Perfetto stores timestamps. BigInt: epoch ns (~1.8e18) are beyond
 * what a double holds exactly, and float noise like 1.1 + 2.2 must not count either.
 */
function _ns(us: number): bigint {
  const whole = Math.trunc(us);
  return BigInt(whole) * 1000n + BigInt(Math.round((us - whole) * 1000));
}

function _span(slice: _Slice): string {
  return `ts ${_us(slice.start)} to ${_us(slice.end)}`;
}

/** Integer ns → µs as written in the file (`1.5`, `1795618853146814`). */
function _us(ns: bigint): string {
  const sign = ns < 0n ? "-" : "";
  const abs = ns < 0n ? -ns : ns;
  const fraction = (abs % 1000n).toString().padStart(3, "0").replace(/0+$/, "");
  return `${sign}${abs / 1000n}${fraction ? `.${fraction}` : ""}`;
}
