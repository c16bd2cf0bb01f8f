/**
 * A backtrace without a core: eBPF programs record the raw user stack of the thread a
 * fatal signal is generated for (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
 * SIGSYS), while it is still alive. By default wrapp loads them itself
 * (`lib/features/run/crash/native_fatal_signal.ts`: no bpftrace process, ready in milliseconds); when
 * that fails (no CAP_BPF, an old kernel, a verifier refusal) it runs `bpf/fatal_signal.bt`
 * with bpftrace instead and says why in a one-line notice. wrapp symbolizes the addresses
 * itself from the service's `/proc/<pid>/maps` and the ELF symbols of the mapped files:
 * the process is gone by the time the record is read.
 *
 * The maps must be read while the process lives, and a program may crash at its first
 * instruction: a watched process that execs is stopped by the programs before the new
 * program runs, and the watcher reads its maps and resumes it (SIGCONT) when it sees the
 * exec. Libraries mapped later (by the dynamic loader at start-up, by `dlopen`) are seen
 * without polling: a uprobe on the loader's `_dl_debug_state()`, which glibc's and musl's
 * loaders call around every change of the library list (for debuggers), sends a "maps
 * changed" record, and the watcher reads that process's maps again (a burst of records
 * costs one read). An idle service costs nothing. The maps are read once more at the
 * signal itself; when the process is gone (or exiting, with no mappings left) the last
 * copy is used.
 *
 * The native watcher hooks a loader once a process using it has run for a second
 * (reading its maps 50 and 250 ms after its exec until then, and once more when the
 * hook is in place): removing a uprobe adds 100-200 ms to wrapp's exit (RCU grace
 * periods), which a service that only runs for a moment should not pay. Only a process
 * whose loader cannot be hooked (no uprobes in the kernel, a loader without
 * `_dl_debug_state`; for bpftrace, any loader but wrapp's own) is polled, every
 * `refreshMs`, as every process was before.
 *
 * The parts: `maps_refresher.ts` keeps the maps (with `loader_hooks.ts`), the fatal signal
 * records are kept in `fatal_signal_records.ts` and symbolized by `crash_frames.ts`, and
 * `bpftrace_fatal_signal.ts` runs the bpftrace engine.
 *
 * Started with `supervisorPid`, one watcher serves every run of a supervised service: the
 * supervisor holds each start before its exec and calls {@linkcode EbpfCrashWatcher.watch}
 * with its pid before resuming it (bpftrace adopts the processes the supervisor resumes
 * with SIGCONT instead).
 *
 * It needs root (and tracefs and bpftrace for the fallback). Without them
 * {@linkcode EbpfCrashWatcher.start} still returns a watcher, whose fallback only says why
 * there is no eBPF backtrace (`no eBPF backtrace: wrapp is not root (run it with sudo)`),
 * which the report lists among its problems.
 *
 * ```ts ignore
 * const watcher = await EbpfCrashWatcher.start({ supervisorPid: Deno.pid });
 * // … hold the child before its exec, watcher.watch(child.pid), then child.kill("SIGCONT") …
 * // … the child dies from SIGSEGV …
 * const report = await captureCrash(info, { fallback: watcher.fallback() });
 * await watcher.stop();
 * ```
 *
 * @module
 */

import { preflight, type PreflightOptions } from "../../../pipeline/bpf/preflight.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import type { BpftraceSidecar } from "../../../pipeline/sources/bpftrace.ts";
import type { FatalSignalEvent } from "./fatal_signal_bpf.ts";
import { NativeFatalSignalSource } from "./native_fatal_signal.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import type { CrashFallback, CrashInfo, CrashThread } from "./crash_report.ts";
import { FATAL_SIGNAL_NUMBERS, FATAL_SIGNAL_PROGRAM } from "./fatal_signal_program.ts";
import { type CrashWatcherEngine, crashWatcherEngine } from "./crash_watcher_engine.ts";
import type { FatalSignalLine } from "./fatal_signal_line.ts";
import { type FatalSignalRecord, FatalSignalRecords } from "./fatal_signal_records.ts";
import { symbolizeFrames } from "./crash_frames.ts";
import { MapsRefresher } from "./maps_refresher.ts";
import { fatalSignalBpftraceProgram, startFatalSignalSidecar } from "./bpftrace_fatal_signal.ts";

export { type CrashWatcherEngine, crashWatcherEngine } from "./crash_watcher_engine.ts";
export { type FatalSignalLine, parseFatalSignalLine } from "./fatal_signal_line.ts";
export type { FatalSignalRecord } from "./fatal_signal_records.ts";
export { crashFrames } from "./crash_frames.ts";
export { findLoader, type LoaderMapping } from "./find_loader.ts";

/** Options for {@linkcode EbpfCrashWatcher.start}: `pid`, `supervisorPid`, or both. */
export interface EbpfCrashWatcherOptions {
  /** A process to watch from the start (its children and threads are followed). */
  pid?: number;
  /**
   * A supervisor (wrapp itself, `Deno.pid`): it holds each start of the service just
   * before its exec, gives its pid to {@linkcode EbpfCrashWatcher.watch} and resumes it,
   * so one watcher serves every restart (bpftrace instead watches every process the
   * supervisor resumes with SIGCONT), with its children and threads.
   */
  supervisorPid?: number;
  /** Which programs watch. Default `$WRAPP_CRASH_WATCHER`, else `"auto"`. */
  engine?: CrashWatcherEngine;
  /** Called with a one-line notice when the native programs cannot load and bpftrace is tried instead. */
  notice?: (text: string) => void;
  /** bpftrace binary, a path or a name in PATH. Default `$WRAPP_BPFTRACE`, else `"bpftrace"`. */
  bpftrace?: string;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /**
   * How often to re-read the maps of a watched process whose dynamic loader cannot be
   * hooked (see the module documentation), ms. Default 1000; 0: never, nor 50 and 250 ms
   * after an exec (the maps are then read at the exec, on records, once the loader is
   * hooked, and at the signal only).
   */
  refreshMs?: number;
  /** Called after every read of a watched process's maps, with its text (tests count them). */
  onMapsRead?: (pid: number, maps: string) => void;
  /** How long the fallback waits for the signal's record to arrive, ms. Default 2000. */
  waitMs?: number;
  /** How long compiling and attaching the program may take, ms. Default 60000. */
  startTimeoutMs?: number;
  /** Where proc is mounted. Default `/proc`. */
  procDir?: string;
  /** Overrides for the preflight check (tests: `uid`). */
  preflight?: PreflightOptions;
}

/** Watches a service for fatal signals with eBPF; see the module documentation. */
export class EbpfCrashWatcher {
  /** The pid watched from the start, if any. */
  readonly pid: number | undefined;
  #unavailable: string | undefined;
  #sidecar: BpftraceSidecar | undefined;
  #native: NativeFatalSignalSource | undefined;
  #nativeFailure: string | undefined;
  readonly #debug: DebugLog;
  readonly #waitMs: number;
  /** The maps of the watched processes, read while they live. */
  readonly #maps: MapsRefresher;
  readonly #records = new FatalSignalRecords();
  #stopped = false;

  private constructor(options: EbpfCrashWatcherOptions, unavailable?: string) {
    this.pid = options.pid;
    this.#unavailable = unavailable;
    this.#debug = options.debug ?? silentDebug;
    this.#waitMs = options.waitMs ?? 2000;
    this.#maps = new MapsRefresher({
      procDir: options.procDir ?? "/proc",
      refreshMs: options.refreshMs ?? 1000,
      onMapsRead: options.onMapsRead,
      keepPid: options.pid,
      attachLoaderHook: (openPath) => this.#native?.hookLoader(openPath),
      debug: this.#debug,
    });
  }

  /**
   * Check root, bpftrace and tracefs, then start bpftrace and resolve once its probes are
   * attached (signals and execs before that are missed). Never throws for a missing
   * bpftrace: when it cannot run, the watcher says why in
   * {@linkcode EbpfCrashWatcher.unavailable} and in the note of its fallback. Throws a
   * `RangeError` without `pid` and `supervisorPid`.
   */
  static async start(options: EbpfCrashWatcherOptions): Promise<EbpfCrashWatcher> {
    if (options.pid === undefined && options.supervisorPid === undefined) {
      throw new RangeError("EbpfCrashWatcher.start needs a pid or a supervisorPid");
    }
    const debug = options.debug ?? silentDebug;
    const what = options.pid !== undefined
      ? `pid ${options.pid}`
      : `the children of pid ${options.supervisorPid}`;
    const engine = options.engine ?? crashWatcherEngine();
    const root = (options.preflight?.uid ?? Deno.uid()) === 0;
    let nativeFailure: string | undefined;
    if (engine !== "bpftrace" && root) {
      // The watcher exists before the programs are attached, so no record is lost.
      const watcher = new EbpfCrashWatcher(options);
      try {
        watcher.#native = await NativeFatalSignalSource.load({
          onEvent: (event) => watcher.#onNative(event),
          debug,
        });
      } catch (error) {
        nativeFailure = describeCause(error);
      }
      if (watcher.#native) {
        debug(`crash watcher: native eBPF programs attached for ${what}`);
        if (options.pid !== undefined) {
          watcher.#maps.follow(options.pid);
          watcher.#native.watch(options.pid);
        }
        return watcher;
      }
      debug(`crash watcher: the native eBPF programs cannot load: ${nativeFailure}`);
      if (engine === "native") {
        return new EbpfCrashWatcher(
          options,
          `the native eBPF programs cannot load: ${nativeFailure}`,
        );
      }
    }
    if (nativeFailure !== undefined) {
      options.notice?.(
        `the native crash watcher cannot load (${nativeFailure}); using bpftrace instead`,
      );
    }
    const watcher = await EbpfCrashWatcher.#startBpftrace(options, what);
    watcher.#nativeFailure = nativeFailure;
    return watcher;
  }

  static async #startBpftrace(
    options: EbpfCrashWatcherOptions,
    what: string,
  ): Promise<EbpfCrashWatcher> {
    const debug = options.debug ?? silentDebug;
    const check = await preflight({
      bpftrace: options.bpftrace,
      tracepoints: FATAL_SIGNAL_PROGRAM.tracepoints,
      ...options.preflight,
    });
    if (check.problems.length > 0 || check.bpftrace === undefined) {
      const why = check.problems.join("; ") || "bpftrace is not available";
      debug(`no eBPF crash backtrace for ${what}: ${why}`);
      return new EbpfCrashWatcher(options, why);
    }
    // The watcher exists before bpftrace starts, so no message is lost.
    const watcher = new EbpfCrashWatcher(options);
    const program = await fatalSignalBpftraceProgram();
    if (program.hookedLoaderKey !== undefined) {
      watcher.#maps.loaderHooks.markHooked(program.hookedLoaderKey);
    }
    if (options.pid !== undefined) watcher.#maps.follow(options.pid);
    try {
      watcher.#sidecar = await startFatalSignalSidecar({
        bpftrace: check.bpftrace.path,
        program: program.text,
        pid: options.pid,
        supervisorPid: options.supervisorPid,
        startTimeoutMs: options.startTimeoutMs,
        onLine: (line, addresses) => watcher.#onLine(line, addresses),
        debug,
      });
    } catch (error) {
      const why = describeCause(error);
      debug(`no eBPF crash backtrace for ${what}: ${why}`);
      watcher.#unavailable = why;
      await watcher.stop();
    }
    return watcher;
  }

  /** Why there is no eBPF backtrace, when no programs run: `wrapp is not root (run it with sudo)`. */
  get unavailable(): string | undefined {
    return this.#unavailable;
  }

  /** Whether programs run (or ran) for this watcher. */
  get active(): boolean {
    return this.#sidecar !== undefined || this.#native !== undefined;
  }

  /** What watches: `native` (no bpftrace process), `bpftrace`, or `undefined` when nothing does. */
  get engine(): "native" | "bpftrace" | undefined {
    return this.#native ? "native" : this.#sidecar ? "bpftrace" : undefined;
  }

  /** Why the native programs could not load, when they were tried and bpftrace is used. */
  get nativeFailure(): string | undefined {
    return this.#nativeFailure;
  }

  /**
   * Watch `pid` (a service start held before its exec) and what it starts, from now on.
   * `running`: a start that was not held, which may have exec'd already: its maps are read
   * now. The bpftrace watcher adopts the processes its supervisor resumes instead: a no-op
   * there.
   */
  watch(pid: number, options: { running?: boolean } = {}): void {
    if (this.#stopped || !this.#native) return;
    try {
      if (options.running) this.#maps.follow(pid);
      this.#native.watch(pid);
    } catch (error) {
      this.#debug(`crash watcher: cannot watch pid ${pid}: ${describeCause(error)}`);
    }
  }

  /** The fatal signals seen so far, oldest first (the last 64). */
  get records(): readonly FatalSignalRecord[] {
    return this.#records.list;
  }

  /**
   * The fallback for `captureCrash`: the stack of the crashed process's last fatal
   * signal (waiting up to `waitMs` for it to arrive), as one crashed thread with
   * `source: "ebpf"`, or a note saying why there is none.
   */
  fallback(): CrashFallback {
    return async (info: CrashInfo) => {
      if (this.#unavailable !== undefined) {
        return { source: "ebpf", threads: [], note: `no eBPF backtrace: ${this.#unavailable}` };
      }
      const number = typeof info.signal === "number"
        ? info.signal
        : SIGNAL_NUMBERS[info.signal] ?? 0;
      if (!FATAL_SIGNAL_NUMBERS.has(number)) {
        return {
          source: "ebpf",
          threads: [],
          note: `no eBPF backtrace: ${info.signal} is not a signal the eBPF watcher records`,
        };
      }
      const record = await this.#records.waitFor(info.pid, number, this.#waitMs);
      const programs = this.#native ? "the eBPF programs" : "bpftrace";
      if (record === undefined) {
        const lost = this.#sidecar?.lostEvents ?? 0;
        return {
          source: "ebpf",
          threads: [],
          note: `no eBPF backtrace: ${programs} saw no fatal signal for pid ${info.pid}${
            lost > 0 ? ` (${lost} events lost)` : ""
          }`,
        };
      }
      const frames = await record.frames;
      const thread: CrashThread = { number: 1, lwp: record.tid, crashed: true, frames };
      const note = frames.length === 0
        ? `no eBPF backtrace: ${programs} recorded an empty user stack`
        : frames.every((f) => f.function === "??")
        ? "the eBPF stack could not be symbolized (the process died before wrapp could read its maps, or its files have no symbols)"
        : undefined;
      return note === undefined
        ? { source: "ebpf", threads: [thread] }
        : { source: "ebpf", threads: [thread], note };
    };
  }

  /**
   * Hand the records already written by the native programs to the watcher now, and
   * resolve once no exec is being handled and no read of maps (nor loader hook) is
   * scheduled or running (tests: a quiet point).
   */
  async settled(): Promise<void> {
    this.#native?.flush();
    await this.#maps.settled();
  }

  /**
   * Stop the programs (closing every fd of the native ones) and the maps refreshes, and
   * resume any process still stopped at its exec. Records and the fallback stay usable.
   * Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#maps.stop();
    this.#records.close();
    await Promise.all([this.#sidecar?.stop(), this.#native?.close()]);
  }

  #onNative(event: FatalSignalEvent): void {
    const { line } = event;
    if (line.kind === "signal" && event.stackError !== undefined) {
      this.#debug(`bpf_get_stack failed for pid ${line.pid}: error ${event.stackError}`);
    }
    this.#onLine(line, event.addresses ?? []);
  }

  /** An event of either engine; `addresses` is the user stack of a signal. */
  #onLine(line: FatalSignalLine, addresses: number[]): void {
    if (line.kind === "exec") this.#maps.onExec(line.pid);
    else if (line.kind === "exit") this.#maps.onExit(line.pid);
    else if (line.kind === "maps") this.#maps.onMapsChanged(line.pid);
    else if (line.kind === "signal") this.#onSignal(line, addresses);
  }

  #onSignal(line: Extract<FatalSignalLine, { kind: "signal" }>, addresses: number[]): void {
    this.#debug(
      `fatal signal ${line.signal} for pid ${line.pid} tid ${line.tid}: ${addresses.length} frames`,
    );
    this.#records.add({
      pid: line.pid,
      tid: line.tid,
      signal: line.signal,
      result: line.result,
      addresses,
      frames: symbolizeFrames(this.#maps.symbolizerFor(line.pid), addresses, (error) => {
        this.#debug(`cannot symbolize the stack of pid ${line.pid}: ${describeCause(error)}`);
      }),
    });
  }
}
