/**
 * Run the `wrapp trace --tui` screen: mount the view with ink in the terminal's alternate
 * screen, pull from the feed every tick, handle keys and resizes, measure frame times,
 * and always give the terminal back as it was (raw mode off, cursor shown, alternate
 * screen left) — on `q`, on a signal, and when something throws.
 *
 * @module
 */

// @ts-types="@types/react"
import React from "react";
import { render, useInput } from "ink";
import { type FrameStats, TraceView } from "./trace_view.ts";
import { type KeyPress, type TraceFeed, TraceViewState } from "./trace_view_state.ts";
import { setLongInterval } from "../../core/long_timeout.ts";

const h = React.createElement;

/** Options for {@linkcode runTraceTui}. */
export interface RunTraceTuiOptions {
  feed: TraceFeed;
  /** Refresh period, ms. Default 50. */
  tickMs?: number;
  /** Show frame times in the footer (`--fps`). */
  showFps?: boolean;
  /** Ends the view like `q` (tests, embedding). */
  signal?: AbortSignal;
  /** Terminal size. Default: `Deno.consoleSize()`, read at every tick and on SIGWINCH. */
  size?: () => { columns: number; rows: number };
  /** Output and input streams (benchmarks). Default: the process's. */
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** How the view ended and how fast it drew. */
export interface TraceTuiResult {
  /** `key`: q/Ctrl-C/Esc; `signal`: SIGINT/SIGTERM/SIGHUP or the abort signal. */
  quitBy: "key" | "signal";
  /** Frame times after the first second: from the start of a tick to the frame written. */
  frames: FrameStats & { maxMs: number };
}

/** The escape sequences that give a terminal back, for when ink could not do it itself. */
const _RESTORE = "\x1b[?1049l\x1b[?25h\x1b[0m";

/** Frames kept for the p99 (the mean is over all frames). */
const _P99_WINDOW = 4096;
/** Frames in the first second are not counted. */
const _WARM_UP_MS = 1000;

/** Show the view until the user quits; resolves with how it ended and the frame times. */
export async function runTraceTui(options: RunTraceTuiOptions): Promise<TraceTuiResult> {
  const tickMs = options.tickMs ?? 50;
  const size = options.size ?? _consoleSize;
  const state = new TraceViewState(options.feed);
  const frames = new _FrameTimes();
  const done = Promise.withResolvers<"key" | "signal">();
  let frameStart: number | undefined;

  // The elapsed time stops when the trace completes.
  let completedAt: number | undefined;
  const props = () => {
    const { columns, rows } = size();
    if (state.header.state === "complete") completedAt ??= Date.now();
    return {
      state,
      width: Math.max(40, columns),
      height: Math.max(12, rows),
      now: completedAt ?? Date.now(),
      fps: options.showFps ? frames.stats() : undefined,
    };
  };

  const onKey = (key: KeyPress) => {
    if (state.key(key) === "quit") done.resolve("key");
    else draw();
  };
  const app = (shown = props()) => h(_App, { ...shown, onKey });
  const instance = _mount(app(), options, tickMs, () => {
    if (frameStart !== undefined) frames.add(performance.now() - frameStart);
    frameStart = undefined;
  });
  const draw = (shown = props()) => instance.rerender(app(shown));

  const restoreOnCrash = () => _restoreTerminal(options.stdout);
  globalThis.addEventListener("error", restoreOnCrash);
  globalThis.addEventListener("unhandledrejection", restoreOnCrash);
  const stopListening = _listen(options.signal, () => done.resolve("signal"), () => draw());

  let failure: unknown;
  let lastLook = "";
  // --tick is a flag: any length must work (see long_timeout.ts).
  const timer = setLongInterval(() => {
    try {
      frameStart = performance.now();
      options.feed.tick?.();
      state.update();
      // A frame that would look like the last one is not drawn (a real trace's counts
      // change once a second; the clock shows tenths).
      const shown = props();
      const look = _look(state.version, shown);
      if (look === lastLook) {
        frameStart = undefined;
        return;
      }
      lastLook = look;
      draw(shown);
    } catch (error) {
      failure = error;
      done.resolve("signal");
    }
  }, tickMs);

  try {
    const quitBy = await done.promise;
    if (failure) throw failure;
    return { quitBy, frames: frames.stats() };
  } finally {
    timer.clear();
    stopListening();
    try {
      instance.unmount();
      await instance.waitUntilExit().catch(() => {});
    } finally {
      _restoreTerminal(options.stdout);
      globalThis.removeEventListener("error", restoreOnCrash);
      globalThis.removeEventListener("unhandledrejection", restoreOnCrash);
    }
  }
}

/** Mount the view with ink on the terminal's alternate screen. */
function _mount(
  node: React.ReactElement,
  options: RunTraceTuiOptions,
  tickMs: number,
  onRender: () => void,
): ReturnType<typeof render> {
  return render(node, {
    stdout: options.stdout,
    stdin: options.stdin,
    // wrapp checked for a terminal already; ink would otherwise turn itself off when it
    // sees $CI set (and draw nothing until the end).
    interactive: true,
    alternateScreen: true,
    exitOnCtrlC: false,
    patchConsole: true,
    incrementalRendering: true,
    // Never hold a frame back: the tick is the pace.
    maxFps: Math.max(60, Math.ceil(2000 / tickMs)),
    onRender,
  });
}

/**
 * Call `onEnd` on SIGINT, SIGTERM, SIGHUP or `abort`, `onResize` on SIGWINCH; returns
 * what stops listening.
 */
function _listen(
  abort: AbortSignal | undefined,
  onEnd: () => void,
  onResize: () => void,
): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) Deno.addSignalListener(signal, onEnd);
  Deno.addSignalListener("SIGWINCH", onResize);
  abort?.addEventListener("abort", onEnd, { once: true });
  if (abort?.aborted) onEnd();
  return () => {
    abort?.removeEventListener("abort", onEnd);
    Deno.removeSignalListener("SIGWINCH", onResize);
    for (const signal of signals) Deno.removeSignalListener(signal, onEnd);
  };
}

/** What a frame would show, as text: a frame that looks like the last one is not drawn. */
function _look(
  version: number,
  shown: { now: number; width: number; height: number; fps?: FrameStats },
): string {
  return `${version} ${Math.floor(shown.now / 100)} ${shown.width}x${shown.height} ${
    shown.fps ? `${shown.fps.meanMs.toFixed(2)} ${shown.fps.p99Ms.toFixed(2)}` : ""
  }`;
}

/** The view plus the keyboard (ink's input hook lives in a component). */
function _App(
  props: React.ComponentProps<typeof TraceView> & { onKey: (key: KeyPress) => void },
): React.ReactElement {
  const { onKey, ...view } = props;
  useInput((input, key) => {
    onKey({
      input,
      upArrow: key.upArrow,
      downArrow: key.downArrow,
      pageUp: key.pageUp,
      pageDown: key.pageDown,
      ctrl: key.ctrl,
      escape: key.escape,
    });
  });
  return h(TraceView, view);
}

/** Raw mode off, cursor shown, alternate screen left: harmless when ink already did it. */
function _restoreTerminal(stdout?: NodeJS.WriteStream): void {
  try {
    if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  } catch {
    // Not a terminal, or already closed.
  }
  try {
    if (stdout) stdout.write(_RESTORE);
    else if (Deno.stdout.isTerminal()) Deno.stdout.writeSync(new TextEncoder().encode(_RESTORE));
  } catch {
    // Nothing more can be done.
  }
}

function _consoleSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 100, rows: 30 };
  }
}

/**
 * Frame durations after the first second (module loading, JIT and the layout engine's
 * start make the first frames slow once; they say nothing about the steady state): the
 * mean over all of them, the p99 and max over the latest window.
 */
class _FrameTimes {
  readonly #window = new Float64Array(_P99_WINDOW);
  readonly #since = performance.now() + _WARM_UP_MS;
  #count = 0;
  #sum = 0;
  #max = 0;
  #cached: (FrameStats & { maxMs: number }) | undefined;

  add(ms: number): void {
    if (performance.now() < this.#since) return;
    this.#window[this.#count % _P99_WINDOW] = ms;
    this.#count++;
    this.#sum += ms;
    this.#max = Math.max(this.#max, ms);
    // The footer asks every frame: sort the window only every 20 frames.
    if (this.#count % 20 === 1) this.#cached = undefined;
  }

  stats(): FrameStats & { maxMs: number } {
    if (this.#cached) return this.#cached;
    const n = Math.min(this.#count, _P99_WINDOW);
    if (n === 0) return { frames: 0, meanMs: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.#window.slice(0, n).sort();
    this.#cached = {
      frames: this.#count,
      meanMs: this.#sum / this.#count,
      p99Ms: sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)],
      maxMs: this.#max,
    };
    return this.#cached;
  }
}
