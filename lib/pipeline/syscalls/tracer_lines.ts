/**
 * The per-call lines of `bpf/syscalls.bt` (`S`: a call at or above the floor, `N`: a
 * thread renamed) and the thread names they add up to.
 *
 * @module
 */

/** One `S` line: a call at or above the floor. */
export interface SlowCall {
  pid: number;
  tid: number;
  nr: number;
  /** CLOCK_MONOTONIC ns when it started. */
  startNs: number;
  latencyNs: number;
  /** Return value (negative errno on failure). */
  ret: number;
  comm: string;
}

/** Parse an `S pid tid nr start lat ret comm` line of `bpf/syscalls.bt`; undefined when malformed. */
export function parseSlowCallLine(line: string): SlowCall | undefined {
  const match = /^S (\d+) (\d+) (\d+) (\d+) (\d+) (-?\d+) ?(.*)$/.exec(line);
  if (!match) return undefined;
  return {
    pid: Number(match[1]),
    tid: Number(match[2]),
    nr: Number(match[3]),
    startNs: Number(match[4]),
    latencyNs: Number(match[5]),
    ret: Number(match[6]),
    comm: match[7],
  };
}

/** One `N` line: a thread renamed (exec, `prctl(PR_SET_NAME)`, a write to its `comm`). */
export interface ThreadRename {
  /** Process of the thread that did the rename. */
  pid: number;
  /** The renamed thread. */
  tid: number;
  /** CLOCK_MONOTONIC ns of the rename. */
  ns: number;
  /** Its new name. */
  comm: string;
}

/** Parse an `N pid tid ns comm` line of `bpf/syscalls.bt`; undefined when malformed. */
export function parseRenameLine(line: string): ThreadRename | undefined {
  const match = /^N (\d+) (\d+) (\d+) (.*)$/.exec(line);
  if (!match) return undefined;
  return { pid: Number(match[1]), tid: Number(match[2]), ns: Number(match[3]), comm: match[4] };
}

/**
 * The names a thread had over time, from renames and from the name each slow call saw:
 * lines arrive per CPU, not in time order, so the latest by kernel time wins.
 */
export class ThreadNames {
  readonly #latest = new Map<number, { ns: number; comm: string }>();

  /** Thread `tid` was called `comm` at `ns` (CLOCK_MONOTONIC). */
  saw(tid: number, ns: number, comm: string): void {
    if (comm === "") return;
    const known = this.#latest.get(tid);
    if (!known || ns >= known.ns) this.#latest.set(tid, { ns, comm });
  }

  /** The latest name of `tid`, if known. */
  latest(tid: number): string | undefined {
    return this.#latest.get(tid)?.comm;
  }

  /** Every known thread's latest name, by tid. */
  toRecord(): Record<number, string> {
    const out: Record<number, string> = {};
    for (const [tid, { comm }] of this.#latest) out[tid] = comm;
    return out;
  }
}
