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

import type { BpftraceMessage } from "../../../pipeline/bpf/bpftrace_json.ts";
import { preflight, type PreflightOptions } from "../../../pipeline/bpf/preflight.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { parseStackKey } from "../../../core/symbols/mem_map.ts";
import { Demangler } from "../../../core/symbols/demangle.ts";
import { type ResolvedFrame, Symbolizer } from "../../../core/symbols/symbolizer.ts";
import { BpftraceSidecar } from "../../../pipeline/sources/bpftrace.ts";
import type { FatalSignalEvent } from "./fatal_signal_bpf.ts";
import { NativeFatalSignalSource } from "./native_fatal_signal.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import type { CrashFallback, CrashFrame, CrashInfo, CrashThread } from "./crash_report.ts";
import {
  FATAL_SIGNAL_NUMBERS,
  FATAL_SIGNAL_PROGRAM,
  fatalSignalProgramText,
} from "./fatal_signal_program.ts";

/**
 * Which programs watch: `native` (wrapp loads them itself), `bpftrace`
 * (`bpf/fatal_signal.bt`), or `auto`: native, else bpftrace.
 */
export type CrashWatcherEngine = "auto" | "native" | "bpftrace";

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

/** A line printed by `bpf/fatal_signal.bt`. */
export type FatalSignalLine =
  | { kind: "ready" }
  | { kind: "exec"; pid: number }
  | { kind: "exit"; pid: number }
  | { kind: "maps"; pid: number }
  | { kind: "signal"; pid: number; tid: number; signal: number; result: number };

/** Parse a printf line of `bpf/fatal_signal.bt`; `undefined` for anything else. */
export function parseFatalSignalLine(text: string): FatalSignalLine | undefined {
  const fields = text.trim().split(/\s+/);
  const numbers = fields.slice(1).map((f) => Number(f));
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  switch (fields[0]) {
    case "R":
      return { kind: "ready" };
    case "E":
      return numbers.length === 1 ? { kind: "exec", pid: numbers[0] } : undefined;
    case "X":
      return numbers.length === 1 ? { kind: "exit", pid: numbers[0] } : undefined;
    case "M":
      return numbers.length === 1 ? { kind: "maps", pid: numbers[0] } : undefined;
    case "S":
      if (numbers.length !== 4) return undefined;
      return {
        kind: "signal",
        pid: numbers[0],
        tid: numbers[1],
        signal: numbers[2],
        result: numbers[3],
      };
  }
  return undefined;
}

/**
 * Resolved frames in the shape of gdb's: the function when the symbols name one (else
 * `??`), the mapped file as `library`, the address as gdb prints it.
 */
export function crashFrames(resolved: readonly ResolvedFrame[]): CrashFrame[] {
  // Code without frame pointers (glibc's raise/abort) leaves the unwinder looping on one
  // address outside any file: the stack ends at the first such repeat.
  const end = resolved.findIndex((frame, i) =>
    i > 0 && frame.address === resolved[i - 1].address &&
    (frame.path === "" || frame.path.startsWith("["))
  );
  return resolved.slice(0, end < 0 ? resolved.length : end - 1).map((frame, index) => {
    const out: CrashFrame = {
      index,
      address: `0x${frame.address.toString(16).padStart(16, "0")}`,
      function: frame.functionName ?? "??",
    };
    if (frame.path !== "") out.library = frame.path;
    return out;
  });
}

/**
 * Milliseconds after an exec at which the maps of a process whose loader is not hooked
 * are read again (the loader maps libraries).
 */
const _AFTER_EXEC_MS = [50, 250];

/** How long a watched process runs before its loader is hooked, ms (see the module documentation). */
const _HOOK_AFTER_MS = 1000;

/**
 * How long a "maps changed" record waits for others before the maps are read, ms: the two
 * calls around one `dlopen`, or a burst of them, cost one read.
 */
const _COALESCE_MS = 20;

/** A dynamic loader mapped by a process: where, and its identity. */
export interface LoaderMapping {
  /** Its path in the process's own root. */
  path: string;
  /** `dev:inode`: the same file for every process, whatever the path. */
  key: string;
}

/**
 * The dynamic loader in the text of a `/proc/<pid>/maps` (`ld-linux-x86-64.so.2`,
 * `ld-linux-aarch64.so.1`, `ld-2.31.so`, `ld-musl-x86_64.so.1`), or `undefined` (a static
 * program).
 */
export function findLoader(maps: string): LoaderMapping | undefined {
  for (const line of maps.split("\n")) {
    const match = /^\S+\s+\S+\s+\S+\s+(\S+)\s+(\d+)\s+(\/.*\/ld[-.][^/]*\.so[^/]*)$/.exec(line);
    if (match && match[2] !== "0") return { path: match[3], key: `${match[1]}:${match[2]}` };
  }
  return undefined;
}

/** How long the maps of a process that ended are kept, ms: bpftrace's per-CPU buffers may deliver its signal after its exit. */
const _KEEP_AFTER_EXIT_MS = 10_000;

/** How many fatal signal records are kept (a service crashing in a loop). */
const _MAX_RECORDS = 64;

/** The engine `$WRAPP_CRASH_WATCHER` asks for (`native`, `bpftrace`), else `auto`. */
export function crashWatcherEngine(
  value: string | undefined = Deno.env.get("WRAPP_CRASH_WATCHER"),
): CrashWatcherEngine {
  return value === "native" || value === "bpftrace" ? value : "auto";
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
  readonly #procDir: string;
  readonly #waitMs: number;
  readonly #demangler: Demangler;
  readonly #symbolizers = new Map<number, Symbolizer>();
  readonly #records: FatalSignalRecord[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #refreshMs: number;
  readonly #onMapsRead: ((pid: number, maps: string) => void) | undefined;
  /**
   * The maps text of the processes whose loader is looked for ("" until it is read; see
   * `#followLoader`).
   */
  readonly #lastMaps = new Map<number, string>();
  /** Per loader (`dev:inode`): whether its `_dl_debug_state` sends "maps changed" records. */
  readonly #loaderHooks = new Map<string, Promise<boolean>>();
  /** Processes whose loader is not hooked: polled every `refreshMs`. */
  readonly #polled = new Set<number>();
  /** Coalesced reads: `scheduled` or `running`, `again` when a record came during a read. */
  readonly #mapsRefresh = new Map<number, "scheduled" | "running" | "again">();
  /** Exec handling and timed reads under way, for {@linkcode EbpfCrashWatcher.settled}. */
  #unsettled = 0;
  #interval: ReturnType<typeof setInterval> | undefined;
  #pending: Extract<FatalSignalLine, { kind: "signal" }> | undefined;
  #arrived = Promise.withResolvers<void>();
  #stopped = false;

  private constructor(options: EbpfCrashWatcherOptions, unavailable?: string) {
    this.pid = options.pid;
    this.#unavailable = unavailable;
    this.#debug = options.debug ?? silentDebug;
    this.#procDir = options.procDir ?? "/proc";
    this.#waitMs = options.waitMs ?? 2000;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#onMapsRead = options.onMapsRead;
    this.#demangler = new Demangler({ debug: this.#debug });
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
          watcher.#symbolizers.set(options.pid, watcher.#newSymbolizer(options.pid));
          watcher.#lastMaps.set(options.pid, "");
          void watcher.#refresh(options.pid).then(() => watcher.#followLoader(options.pid!));
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
    // bpftrace takes integer parameters only: the loader's path is written into the
    // program. Only that loader is hooked; processes using another one are polled.
    const own = findLoader(await Deno.readTextFile("/proc/self/maps").catch(() => ""));
    const program = fatalSignalProgramText(own?.path);
    if (own && program.hooked) watcher.#loaderHooks.set(own.key, Promise.resolve(true));
    if (options.pid !== undefined) {
      watcher.#symbolizers.set(options.pid, watcher.#newSymbolizer(options.pid));
      watcher.#lastMaps.set(options.pid, "");
      void watcher.#refresh(options.pid).then(() => watcher.#followLoader(options.pid!));
    }
    let sidecar: BpftraceSidecar;
    try {
      sidecar = await BpftraceSidecar.start({
        bpftrace: check.bpftrace.path,
        program: program.text,
        programName: FATAL_SIGNAL_PROGRAM.name,
        params: [options.pid ?? 0, options.supervisorPid ?? 0],
        // signal(): a process that execs stops until its maps are read.
        unsafe: true,
        env: { BPFTRACE_NO_USER_SYMBOLS: "1" },
        onMessage: (message) => watcher.#onMessage(message),
        // bpftrace announces the probes before attaching them; BEGIN runs once they are.
        isReady: (message) =>
          message.type === "printf" && parseFatalSignalLine(message.text)?.kind === "ready",
        startTimeoutMs: options.startTimeoutMs,
        debug,
      });
    } catch (error) {
      const why = describeCause(error);
      debug(`no eBPF crash backtrace for ${what}: ${why}`);
      watcher.#unavailable = why;
      await watcher.stop();
      return watcher;
    }
    watcher.#sidecar = sidecar;
    void sidecar.exited.then((exit) => {
      if (!exit.requested) {
        debug(`bpftrace (crash backtraces) ended by itself${sidecar.describeFailure()}`);
      }
    });
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
   * The bpftrace watcher adopts the processes its supervisor resumes instead: a no-op there.
   */
  watch(pid: number): void {
    if (this.#stopped || !this.#native) return;
    try {
      this.#native.watch(pid);
    } catch (error) {
      this.#debug(`crash watcher: cannot watch pid ${pid}: ${describeCause(error)}`);
    }
  }

  /** The fatal signals seen so far, oldest first (the last 64). */
  get records(): readonly FatalSignalRecord[] {
    return this.#records;
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
      const deadline = performance.now() + this.#waitMs;
      let record = this.#find(info.pid, number);
      while (record === undefined && !this.#stopped) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.#arrived.promise,
          new Promise<void>((resolve) => timer = setTimeout(resolve, left)),
        ]);
        clearTimeout(timer);
        record = this.#find(info.pid, number);
      }
      if (record === undefined) {
        const lost = this.#sidecar?.lostEvents ?? 0;
        return {
          source: "ebpf",
          threads: [],
          note: `no eBPF backtrace: ${
            this.#native ? "the eBPF programs" : "bpftrace"
          } saw no fatal signal for pid ${info.pid}${lost > 0 ? ` (${lost} events lost)` : ""}`,
        };
      }
      const frames = await record.frames;
      const thread: CrashThread = { number: 1, lwp: record.tid, crashed: true, frames };
      const note = frames.length === 0
        ? `no eBPF backtrace: ${
          this.#native ? "the eBPF programs" : "bpftrace"
        } recorded an empty user stack`
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
    while ((this.#mapsRefresh.size > 0 || this.#unsettled > 0) && !this.#stopped) {
      await new Promise((resolve) => setTimeout(resolve, _COALESCE_MS));
    }
  }

  /**
   * Stop the programs (closing every fd of the native ones) and the maps refreshes, and
   * resume any process still stopped at its exec. Records and the fallback stay usable.
   * Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#mapsRefresh.clear();
    this.#arrived.resolve();
    await Promise.all([this.#sidecar?.stop(), this.#native?.close()]);
  }

  /**
   * Attach the loader hook to the loader `loader` (opened at `openPath`) once; resolves
   * whether its records come.
   */
  #hookLoader(loader: LoaderMapping, openPath: string): Promise<boolean> {
    let hooked = this.#loaderHooks.get(loader.key);
    if (hooked === undefined) {
      const native = this.#native;
      hooked = native === undefined ? Promise.resolve(false) : native.hookLoader(openPath).then(
        () => {
          this.#debug(`crash watcher: hooked the dynamic loader ${loader.path}`);
          return true;
        },
        (error) => {
          this.#debug(
            `crash watcher: cannot hook the dynamic loader ${loader.path} (its processes are polled): ${
              describeCause(error)
            }`,
          );
          return false;
        },
      );
      this.#loaderHooks.set(loader.key, hooked);
    }
    return hooked;
  }

  /**
   * After the first read of `pid`'s maps: nothing more when its loader sends "maps
   * changed" records; else read them again soon after its exec, and hook its loader once
   * it has run a while, or poll it when its loader cannot be hooked.
   */
  async #followLoader(pid: number, afterExec = false): Promise<void> {
    const loader = findLoader(this.#lastMaps.get(pid) ?? "");
    this.#lastMaps.delete(pid);
    // A static program maps nothing more after its exec (without a loader, no dlopen).
    if (loader === undefined) return;
    const hooked = this.#loaderHooks.get(loader.key);
    if (hooked !== undefined && await hooked) return;
    const symbolizer = this.#symbolizers.get(pid);
    if (this.#stopped || symbolizer === undefined) return;
    if (afterExec && this.#refreshMs > 0) {
      for (const delay of _AFTER_EXEC_MS) this.#afterRead(delay, () => this.#refresh(pid));
    }
    if (hooked === undefined) {
      this.#afterRead(_HOOK_AFTER_MS, () => this.#hookWhileRunning(pid, symbolizer, loader));
    } else {
      this.#poll(pid);
    }
  }

  /** `pid` has run a while: hook its loader, then read the maps it mapped meanwhile. */
  async #hookWhileRunning(
    pid: number,
    symbolizer: Symbolizer,
    loader: LoaderMapping,
  ): Promise<void> {
    if (this.#symbolizers.get(pid) !== symbolizer) return; // it exec'd again
    // Still running? A process that ended (or is ending) has no maps to read.
    this.#lastMaps.set(pid, "");
    await this.#refresh(pid);
    const running = this.#lastMaps.get(pid) !== "";
    this.#lastMaps.delete(pid);
    if (!running || this.#stopped) return;
    if (await this.#hookLoader(loader, `${this.#procDir}/${pid}/root${loader.path}`)) {
      await this.#refresh(pid);
    } else if (this.#symbolizers.get(pid) === symbolizer) {
      this.#poll(pid);
    }
  }

  #poll(pid: number): void {
    if (this.#stopped) return;
    this.#polled.add(pid);
    if (this.#interval === undefined && this.#refreshMs > 0) {
      this.#interval = setInterval(() => {
        for (const polled of this.#polled) void this.#refresh(polled);
      }, this.#refreshMs);
    }
  }

  #unpoll(pid: number): void {
    this.#polled.delete(pid);
    if (this.#polled.size === 0 && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  /** A "maps changed" record: read the maps once the burst it may start is over. */
  #onMapsChanged(pid: number): void {
    if (this.#stopped) return;
    if (!this.#symbolizers.has(pid)) {
      // A fork that never exec'd, loading a library.
      this.#symbolizers.set(pid, this.#newSymbolizer(pid));
    }
    const state = this.#mapsRefresh.get(pid);
    if (state === "running") this.#mapsRefresh.set(pid, "again");
    if (state !== undefined) return;
    this.#mapsRefresh.set(pid, "scheduled");
    const read = async () => {
      this.#mapsRefresh.set(pid, "running");
      await this.#refresh(pid);
      if (this.#mapsRefresh.get(pid) === "again" && !this.#stopped) {
        this.#mapsRefresh.set(pid, "scheduled");
        this.#after(_COALESCE_MS, read);
      } else {
        this.#mapsRefresh.delete(pid);
      }
    };
    this.#after(_COALESCE_MS, read);
  }

  #find(pid: number, signal: number): FatalSignalRecord | undefined {
    const mine = this.#records.filter((r) => r.pid === pid);
    return mine.findLast((r) => r.signal === signal) ?? mine.at(-1);
  }

  #onMessage(message: BpftraceMessage): void {
    if (message.type === "printf") {
      for (const text of message.text.split("\n")) {
        const line = parseFatalSignalLine(text);
        if (line?.kind === "exec") this.#onExec(line.pid);
        else if (line?.kind === "exit") this.#onExit(line.pid);
        else if (line?.kind === "maps") this.#onMapsChanged(line.pid);
        else if (line?.kind === "signal") this.#pending = line;
      }
    } else if (message.type === "other" && message.kind === "value") {
      const line = this.#pending;
      this.#pending = undefined;
      if (line === undefined || typeof message.data !== "string") return;
      this.#onSignal(line, parseStackKey(message.data));
    }
  }

  #onNative(event: FatalSignalEvent): void {
    const { line } = event;
    if (line.kind === "exec") this.#onExec(line.pid);
    else if (line.kind === "exit") this.#onExit(line.pid);
    else if (line.kind === "maps") this.#onMapsChanged(line.pid);
    else if (line.kind === "signal") {
      if (event.stackError !== undefined) {
        this.#debug(`bpf_get_stack failed for pid ${line.pid}: error ${event.stackError}`);
      }
      this.#onSignal(line, event.addresses ?? []);
    }
  }

  #onSignal(line: Extract<FatalSignalLine, { kind: "signal" }>, addresses: number[]): void {
    this.#debug(
      `fatal signal ${line.signal} for pid ${line.pid} tid ${line.tid}: ${addresses.length} frames`,
    );
    this.#records.push({
      pid: line.pid,
      tid: line.tid,
      signal: line.signal,
      result: line.result,
      addresses,
      frames: this.#symbolize(line.pid, addresses),
    });
    if (this.#records.length > _MAX_RECORDS) this.#records.shift();
    const arrived = this.#arrived;
    this.#arrived = Promise.withResolvers<void>();
    arrived.resolve();
  }

  /** The process exec'd and the programs stopped it: read its new maps, then let it run. */
  #onExec(pid: number): void {
    if (this.#stopped) {
      this.#resume(pid);
      return;
    }
    this.#debug(`pid ${pid} exec'd: reading its maps before it runs`);
    // The maps read before belong to the old program: a new symbolizer, so the old ones
    // can never name a frame of the new program.
    this.#symbolizers.set(pid, this.#newSymbolizer(pid));
    this.#lastMaps.set(pid, "");
    this.#unpoll(pid);
    // Resumed once its maps are read and what follows them is decided.
    this.#unsettled++;
    void this.#refresh(pid)
      .then(() => this.#followLoader(pid, true))
      .finally(() => {
        this.#unsettled--;
        this.#resume(pid);
      });
  }

  #onExit(pid: number): void {
    this.#unpoll(pid);
    const symbolizer = this.#symbolizers.get(pid);
    if (symbolizer === undefined || pid === this.pid) return;
    // Another CPU's buffer may still hold its fatal signal: keep the maps a while.
    this.#after(_KEEP_AFTER_EXIT_MS, () => {
      if (this.#symbolizers.get(pid) === symbolizer) this.#symbolizers.delete(pid);
    });
  }

  #resume(pid: number): void {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch (error) {
      this.#debug(`cannot resume pid ${pid} after its exec: ${describeCause(error)}`);
    }
  }

  /** `#after` for a read of maps, which `settled()` waits for (until `stop()` drops it). */
  #afterRead(ms: number, read: () => Promise<void>): void {
    if (this.#stopped) return;
    this.#unsettled++;
    this.#after(ms, () => void read().finally(() => this.#unsettled--));
  }

  #after(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  async #symbolize(pid: number, addresses: number[]): Promise<CrashFrame[]> {
    try {
      let symbolizer = this.#symbolizers.get(pid);
      if (!symbolizer) {
        // A process never seen exec'ing (a fork): its maps can only be read now.
        symbolizer = this.#newSymbolizer(pid);
        this.#symbolizers.set(pid, symbolizer);
      }
      await symbolizer.refreshMaps();
      const [resolved] = await symbolizer.resolveStacks([addresses]);
      return crashFrames(resolved);
    } catch (error) {
      this.#debug(`cannot symbolize the stack of pid ${pid}: ${describeCause(error)}`);
      return addresses.map((address, index) => ({
        index,
        address: `0x${address.toString(16).padStart(16, "0")}`,
        function: "??",
      }));
    }
  }

  #newSymbolizer(pid: number): Symbolizer {
    const path = `${this.#procDir}/${pid}/maps`;
    return new Symbolizer(pid, {
      procDir: this.#procDir,
      demangler: this.#demangler,
      debug: this.#debug,
      readMaps: async () => {
        const text = await Deno.readTextFile(path);
        // A process past its exit (or a zombie) has no mappings left: it is gone for
        // the symbolizer, which then keeps the maps it read last.
        if (text === "") throw new Error("the process is exiting");
        if (this.#lastMaps.has(pid)) this.#lastMaps.set(pid, text);
        this.#onMapsRead?.(pid, text);
        return text;
      },
    });
  }

  async #refresh(pid: number): Promise<void> {
    try {
      await this.#symbolizers.get(pid)?.refreshMaps();
    } catch (error) {
      this.#debug(`cannot read the maps of pid ${pid}: ${describeCause(error)}`);
    }
  }
}
