/**
 * The progress line of `wrapp record` on stderr: on a terminal, a bar redrawn in place
 * (`[#######·····]  4.2/10 s  redis-benchmark  52310 syscalls/s`); elsewhere (a log, a
 * pipe) a plain line every few seconds, so logs stay readable.
 *
 * @module
 */

/** What the progress line shows. */
export interface ProgressState {
  /** Time since the workload started, ms. */
  elapsedMs: number;
  /** How long it should run, ms; undefined when it runs until it ends. */
  totalMs?: number;
  /** What runs (`redis-benchmark`). */
  label: string;
  /** Extra figures (`52310 syscalls/s, 12.3 MiB`). */
  detail?: string;
}

/** One progress line, at most `columns` characters, for a terminal. */
export function formatProgressBar(state: ProgressState, columns = 80): string {
  const seconds = (state.elapsedMs / 1000).toFixed(1);
  const time = state.totalMs === undefined
    ? `${seconds} s`
    : `${seconds}/${_seconds(state.totalMs)} s`;
  const tail = `  ${time}  ${state.label}${state.detail ? `  ${state.detail}` : ""}`;
  // The bar's width depends on the terminal only, so it does not jump as figures change.
  const width = Math.max(10, Math.min(30, columns - 50));
  let bar: string;
  if (state.totalMs === undefined || state.totalMs <= 0) {
    // No end known: a marker moving back and forth.
    const position = Math.floor(state.elapsedMs / 250) % (2 * (width - 1));
    const at = position < width ? position : 2 * (width - 1) - position;
    bar = "·".repeat(at) + "#" + "·".repeat(width - at - 1);
  } else {
    const done = Math.min(width, Math.floor((state.elapsedMs / state.totalMs) * width));
    bar = "#".repeat(done) + "·".repeat(width - done);
  }
  const line = `[${bar}]${tail}`;
  return line.length <= columns ? line : `${line.slice(0, Math.max(0, columns - 1))}…`;
}

/** One progress line for a log: `wrapp record: 5 s of 10 s, redis-benchmark, 52310 syscalls/s`. */
export function formatProgressLine(state: ProgressState): string {
  const of = state.totalMs === undefined ? "" : ` of ${_seconds(state.totalMs)} s`;
  return `wrapp record: ${Math.round(state.elapsedMs / 1000)} s${of}, ${state.label}${
    state.detail ? `, ${state.detail}` : ""
  }`;
}

function _seconds(ms: number): string {
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

/** Options for {@linkcode ProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** Write text to the terminal or log. Default: stderr. */
  write?: (text: string) => void;
  /** Whether the output is a terminal. Default: whether stderr is one. */
  terminal?: boolean;
  /** Terminal width. Default: stderr's, else 80. */
  columns?: number;
  /** Redraw interval on a terminal, ms. Default 200. */
  redrawMs?: number;
  /** Interval between lines elsewhere, ms. Default 5000. */
  lineEveryMs?: number;
}

/** Shows the progress of a running workload until stopped. */
export class ProgressDisplay {
  readonly #write: (text: string) => void;
  readonly #terminal: boolean;
  readonly #columns: number;
  readonly #state: () => ProgressState;
  #timer: ReturnType<typeof setInterval> | undefined;
  #drawn = false;

  /** Start showing `state()` (called at every redraw). */
  constructor(state: () => ProgressState, options: ProgressDisplayOptions = {}) {
    this.#state = state;
    this.#write = options.write ?? _writeStderr;
    this.#terminal = options.terminal ?? Deno.stderr.isTerminal();
    this.#columns = options.columns ?? _columns();
    const every = this.#terminal ? options.redrawMs ?? 200 : options.lineEveryMs ?? 5000;
    if (this.#terminal) this.#draw();
    this.#timer = setInterval(() => this.#draw(), every);
  }

  /** Stop; on a terminal, erase the bar. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#terminal && this.#drawn) this.#write("\r\x1b[K");
    this.#drawn = false;
  }

  #draw(): void {
    const state = this.#state();
    if (this.#terminal) {
      this.#write(`\r${formatProgressBar(state, this.#columns - 1)}\x1b[K`);
      this.#drawn = true;
    } else {
      this.#write(formatProgressLine(state) + "\n");
    }
  }
}

function _columns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

function _writeStderr(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
