/**
 * Keeps the `/proc/<pid>/maps` of every watched process fresh enough to symbolize its
 * stack at a fatal signal, without polling an idle service: a process is read at its exec
 * (stopped there by the programs, and resumed once read), whenever its dynamic loader's
 * `_dl_debug_state` sends a "maps changed" record (a burst costs one read), and at the
 * signal itself.
 *
 * A loader is hooked once a process using it has run for a second (its maps are read 50
 * and 250 ms after its exec until then, and once more when the hook is in place): removing
 * a uprobe adds 100-200 ms to wrapp's exit, which a service that only runs for a moment
 * should not pay. A process whose loader cannot be hooked is polled every `refreshMs`.
 *
 * @module
 */

import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { Demangler } from "../../../core/symbols/demangle.ts";
import { readLiveMaps } from "../../../core/symbols/proc_maps.ts";
import { Symbolizer } from "../../../core/symbols/symbolizer.ts";
import { findLoader, type LoaderMapping } from "./find_loader.ts";
import { type AttachLoaderHook, LoaderHooks } from "./loader_hooks.ts";
import { delay, startTimer, type Timer } from "../../../core/timers.ts";
import { type LongTimer, setLongInterval } from "../../../core/long_timeout.ts";

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

/** How long the maps of a process that ended are kept, ms: bpftrace's per-CPU buffers may deliver its signal after its exit. */
const _KEEP_AFTER_EXIT_MS = 10_000;

/** Options for a {@linkcode MapsRefresher}. */
export interface MapsRefresherOptions {
  /** Where proc is mounted. */
  procDir: string;
  /** How often to re-read the maps of a process whose loader cannot be hooked, ms; 0: never. */
  refreshMs: number;
  /** Called after every read of a watched process's maps, with its text. */
  onMapsRead?: (pid: number, maps: string) => void;
  /** The process watched from the start: its maps are kept after its exit. */
  keepPid?: number;
  /** Attaches the "maps changed" hook to a loader. */
  attachLoaderHook: AttachLoaderHook;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** The per-process maps and the reads that keep them fresh; see the module documentation. */
export class MapsRefresher {
  readonly #debug: DebugLog;
  readonly #procDir: string;
  readonly #refreshMs: number;
  readonly #onMapsRead: ((pid: number, maps: string) => void) | undefined;
  readonly #keepPid: number | undefined;
  readonly #demangler: Demangler;
  readonly #symbolizers = new Map<number, Symbolizer>();
  readonly #timers = new Set<Timer>();
  /**
   * The maps text of the processes whose loader is looked for ("" until it is read; see
   * `#followLoader`).
   */
  readonly #lastMaps = new Map<number, string>();
  readonly #loaderHooks: LoaderHooks;
  /** Processes whose loader is not hooked: polled every `refreshMs`. */
  readonly #polled = new Set<number>();
  /** Coalesced reads: `scheduled` or `running`, `again` when a record came during a read. */
  readonly #mapsRefresh = new Map<number, "scheduled" | "running" | "again">();
  /** Exec handling and timed reads under way, for {@linkcode MapsRefresher.settled}. */
  #unsettled = 0;
  #interval: LongTimer | undefined;
  #stopped = false;

  /** Reads nothing until told about a process. */
  constructor(options: MapsRefresherOptions) {
    this.#debug = options.debug ?? silentDebug;
    this.#procDir = options.procDir;
    this.#refreshMs = options.refreshMs;
    this.#onMapsRead = options.onMapsRead;
    this.#keepPid = options.keepPid;
    this.#demangler = new Demangler({ debug: this.#debug });
    this.#loaderHooks = new LoaderHooks(options.attachLoaderHook, this.#debug);
  }

  /** Which loaders send "maps changed" records. */
  get loaderHooks(): LoaderHooks {
    return this.#loaderHooks;
  }

  /** Start following `pid`, already running: read its maps, then follow its loader. */
  follow(pid: number): void {
    this.#symbolizers.set(pid, this.#newSymbolizer(pid));
    this.#lastMaps.set(pid, "");
    void this.#refresh(pid).then(() => this.#followLoader(pid));
  }

  /** The symbolizer of `pid`; a new one for a process never seen exec'ing (a fork). */
  symbolizerFor(pid: number): Symbolizer {
    let symbolizer = this.#symbolizers.get(pid);
    if (!symbolizer) {
      // A process never seen exec'ing (a fork): its maps can only be read now.
      symbolizer = this.#newSymbolizer(pid);
      this.#symbolizers.set(pid, symbolizer);
    }
    return symbolizer;
  }

  /** The process exec'd and the programs stopped it: read its new maps, then let it run. */
  onExec(pid: number): void {
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

  /** The process ended: stop polling it, and forget its maps a while later. */
  onExit(pid: number): void {
    this.#unpoll(pid);
    const symbolizer = this.#symbolizers.get(pid);
    if (symbolizer === undefined || pid === this.#keepPid) return;
    // Another CPU's buffer may still hold its fatal signal: keep the maps a while.
    this.#after(_KEEP_AFTER_EXIT_MS, () => {
      if (this.#symbolizers.get(pid) === symbolizer) this.#symbolizers.delete(pid);
    });
  }

  /** A "maps changed" record: read the maps once the burst it may start is over. */
  onMapsChanged(pid: number): void {
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

  /**
   * Resolve once no exec is being handled and no read of maps (nor loader hook) is
   * scheduled or running, or once stopped.
   */
  async settled(): Promise<void> {
    while ((this.#mapsRefresh.size > 0 || this.#unsettled > 0) && !this.#stopped) {
      await delay(_COALESCE_MS);
    }
  }

  /** Stop every timed read and the poll; a process exec'ing from now on is resumed at once. */
  stop(): void {
    this.#stopped = true;
    this.#interval?.clear();
    this.#interval = undefined;
    for (const timer of this.#timers) timer.clear();
    this.#timers.clear();
    this.#mapsRefresh.clear();
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
    if (await this.#loaderHooks.hook(loader, `${this.#procDir}/${pid}/root${loader.path}`)) {
      await this.#refresh(pid);
    } else if (this.#symbolizers.get(pid) === symbolizer) {
      this.#poll(pid);
    }
  }

  #poll(pid: number): void {
    if (this.#stopped) return;
    this.#polled.add(pid);
    if (this.#interval === undefined && this.#refreshMs > 0) {
      this.#interval = setLongInterval(() => {
        for (const polled of this.#polled) void this.#refresh(polled);
      }, this.#refreshMs);
    }
  }

  #unpoll(pid: number): void {
    this.#polled.delete(pid);
    if (this.#polled.size === 0 && this.#interval !== undefined) {
      this.#interval.clear();
      this.#interval = undefined;
    }
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
    const timer = startTimer(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #newSymbolizer(pid: number): Symbolizer {
    return new Symbolizer(pid, {
      procDir: this.#procDir,
      demangler: this.#demangler,
      debug: this.#debug,
      readMaps: async () => {
        // Throws for a process that is exiting: the symbolizer keeps the maps read last.
        const text = await readLiveMaps(pid, this.#procDir);
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
