/**
 * One memory-profiling session of one process: runs `bpf/memprof.bt` through the
 * bpftrace sidecar, turns every printed `@mem` map into a snapshot of live memory per
 * resolved call stack, and answers what the HTTP server and the exports ask.
 *
 * Snapshots arrive every period (default 1 s). Symbolizing one can take longer the first
 * time (reading a large symbol table); snapshots that arrive meanwhile replace each other,
 * so the session always works on the newest, and the final one (printed by bpftrace's
 * END after {@linkcode MemprofSession.stop}) is never skipped.
 *
 * @module
 */

import type { BpftraceMessage } from "../../pipeline/bpf/bpftrace_json.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { SidecarError } from "../../core/errors.ts";
import { BpftraceSidecar } from "../../pipeline/sources/bpftrace.ts";
import { buildCallTree, type ProfileStack } from "./call_tree.ts";
import { foldedStacks } from "./folded.ts";
import type { MemprofSource } from "./http_server.ts";
import { MEMPROF_BPF, memprofEnv, memprofParams } from "./memprof_bpf.ts";
import { parseMemMap } from "../../core/symbols/mem_map.ts";
import {
  kernelPageSizeKb,
  type ProcessMemory,
  readProcessMemory,
} from "../../core/smaps_rollup.ts";
import type { MemprofStatus } from "./memprof_status.ts";
import { type ResolvedFrame, Symbolizer } from "../../core/symbols/symbolizer.ts";
import type { MemorySample } from "./tef_counters.ts";
import { type TezedgeNode, toTezedgeTree } from "./tezedge_json.ts";

/** Default number of page allocations tracked at once (`BPFTRACE_MAP_KEYS_MAX`). */
export const DEFAULT_MAX_PAGES = 262_144;

/** Options for {@linkcode MemprofSession.start}. */
export interface MemprofSessionOptions {
  /** The process to profile. */
  pid: number;
  /** The bpftrace binary (resolved path, from the preflight check). */
  bpftrace: string;
  /** Shown in the page and the status: the command line or the process name. */
  command?: string;
  /** How often bpftrace prints the totals, in whole seconds. Default 1. */
  periodS?: number;
  /** Page allocations tracked at once. Default {@linkcode DEFAULT_MAX_PAGES}. */
  maxPages?: number;
  /** Count kernel pages allocated for the process too (page tables, slab). Default false. */
  allPages?: boolean;
  /** Called with every snapshot, after it became the current one. */
  onSnapshot?: (snapshot: MemprofSnapshot) => void;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
  /** Symbolizer (tests). Default: one for `pid`. */
  symbolizer?: Symbolizer;
  /** Where proc is mounted. Default `/proc`. */
  procDir?: string;
  /** How long bpftrace may take to compile and attach, ms. Default 60000. */
  startTimeoutMs?: number;
}

/** Live memory at one moment. */
export interface MemprofSnapshot {
  /** When bpftrace printed it, ms since the Unix epoch. */
  readonly time: number;
  /** Every stack holding memory. */
  readonly stacks: readonly ProfileStack[];
  /** Attributed resident kB. */
  readonly residentKb: number;
  /** Attributed page-cache kB. */
  readonly cacheKb: number;
  /** What the kernel said about the process then; `undefined` once it is gone. */
  readonly process?: ProcessMemory;
  /** Whether this is the last snapshot (printed when bpftrace stopped). */
  readonly final: boolean;
}

/** A printed `@mem` map waiting to be turned into a snapshot. */
interface _Pending {
  readonly entries: Readonly<Record<string, unknown>>;
  readonly final: boolean;
  readonly time: number;
  /** Whether the process had begun exiting when the map arrived (its RSS is then not read). */
  readonly frozen: boolean;
}

const _EMPTY: MemprofSnapshot = Object.freeze({
  time: 0,
  stacks: [],
  residentKb: 0,
  cacheKb: 0,
  final: false,
});

/** A running profile. */
export class MemprofSession implements MemprofSource {
  /** The profiled process. */
  readonly pid: number;
  /** Memory over time, one sample per snapshot (for `--tef`). */
  readonly samples: MemorySample[] = [];
  /** Resolves when bpftrace has exited (after {@linkcode MemprofSession.stop}, or on its own). */
  readonly exited: Promise<void>;

  readonly #options: MemprofSessionOptions;
  readonly #debug: DebugLog;
  readonly #symbolizer: Symbolizer;
  readonly #frames = new Map<string, ResolvedFrame[]>();
  readonly #startedAt = Date.now();
  #sidecar!: BpftraceSidecar;
  #pageSizeKb = 4;
  #current: MemprofSnapshot = _EMPTY;
  #atAttach: ProcessMemory | undefined;
  /** The last memory figures read while the process lived. */
  #lastProcess: ProcessMemory | undefined;
  #lostPages = 0;
  #frozen = false;
  #finalNext = false;
  #state: MemprofStatus["state"] = "starting";
  #exit: string | undefined;
  #pending: _Pending[] = [];
  #working: Promise<void> | undefined;
  #exitedResolve!: () => void;

  private constructor(options: MemprofSessionOptions) {
    this.pid = options.pid;
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
    this.#symbolizer = options.symbolizer ??
      new Symbolizer(options.pid, { debug: this.#debug, procDir: options.procDir });
    this.exited = new Promise((resolve) => this.#exitedResolve = resolve);
  }

  /**
   * Start bpftrace on `options.pid` and resolve once every probe is attached. Throws a
   * {@linkcode SidecarError} when bpftrace fails (with what it printed), and the
   * `WrappError` of {@linkcode Symbolizer.refreshMaps} callers when the process is gone.
   */
  static async start(options: MemprofSessionOptions): Promise<MemprofSession> {
    const session = new MemprofSession(options);
    session.#pageSizeKb = await kernelPageSizeKb(options.procDir);
    await session.#symbolizer.refreshMaps();
    session.#sidecar = await BpftraceSidecar.start({
      bpftrace: options.bpftrace,
      program: MEMPROF_BPF.text,
      programName: MEMPROF_BPF.name,
      params: memprofParams({ ...options, periodS: options.periodS }),
      env: memprofEnv(options.maxPages ?? DEFAULT_MAX_PAGES),
      onMessage: (message) => session.#onMessage(message),
      // memprof.bt prints "R" in BEGIN, which bpftrace runs once every probe is attached.
      isReady: (message) => message.type === "printf" && message.text.startsWith("R "),
      startTimeoutMs: options.startTimeoutMs,
      debug: session.#debug,
    });
    session.#state = "running";
    session.#atAttach = await readProcessMemory(options.pid, options.procDir);
    session.#sidecar.exited.then(async (exit) => {
      await session.#idle();
      if (!exit.requested) {
        session.#debug(
          `bpftrace ended on its own: code ${exit.code}${session.#sidecar.describeFailure()}`,
        );
      }
      session.#exitedResolve();
    });
    return session;
  }

  /** The newest snapshot. */
  get snapshot(): MemprofSnapshot {
    return this.#current;
  }

  /** The kernel's page size, kB. */
  get pageSizeKb(): number {
    return this.#pageSizeKb;
  }

  /** Memory of the process when profiling began (read once bpftrace was attached). */
  get atAttach(): ProcessMemory | undefined {
    return this.#atAttach;
  }

  /** Pages not recorded because the table was full. */
  get lostPages(): number {
    return this.#lostPages;
  }

  /** Events bpftrace reported lost. */
  get lostEvents(): number {
    return this.#sidecar?.lostEvents ?? 0;
  }

  /** Whether bpftrace ended without being asked to (a failure, see {@linkcode MemprofSession.failure}). */
  failure(): SidecarError | undefined {
    if (this.#state === "stopped") return undefined;
    return new SidecarError(
      `bpftrace stopped profiling pid ${this.pid} unexpectedly${this.#sidecar.describeFailure()}`,
    );
  }

  /** Record how the process ended, for the status (`exit code 0`, `signal SIGKILL`). */
  markExited(description: string): void {
    this.#state = "exited";
    this.#exit = description;
  }

  /**
   * Stop bpftrace; resolves with the final snapshot (taken when it stopped; if the
   * process had begun exiting, the memory it held just before).
   */
  async stop(): Promise<MemprofSnapshot> {
    if (this.#state === "running" && !this.#frozen) {
      // The RSS at the end, also when no snapshot came (nothing allocated since attaching).
      this.#lastProcess = await readProcessMemory(this.pid, this.#options.procDir) ??
        this.#lastProcess;
    }
    if (this.#state !== "exited") this.#state = "stopped";
    await this.#sidecar.stop();
    await this.exited;
    return this.#current;
  }

  /** The TezEdge tree of the current snapshot. */
  tree(options: { reverse?: boolean; threshold?: number } = {}): TezedgeNode {
    return toTezedgeTree(buildCallTree(this.#current.stacks, { reverse: options.reverse }), {
      threshold: options.threshold,
    });
  }

  /** TezEdge's `/v1/tree?short=true`: attributed total, cache, anonymous; the kernel's RssAnon. */
  short(): { total: number; cache: number; anon: number; systemReportAnon: number } {
    const { residentKb, cacheKb, process } = this.#current;
    return {
      total: residentKb + cacheKb,
      cache: cacheKb,
      anon: residentKb,
      systemReportAnon: process?.anonKb ?? 0,
    };
  }

  /** Collapsed stacks of the current snapshot. */
  folded(): string {
    return foldedStacks(this.#current.stacks);
  }

  /** The status object. */
  status(): MemprofStatus {
    const current = this.#current;
    const memory = current.process ?? this.#lastProcess;
    let shallowKb = 0;
    for (const stack of current.stacks) {
      if (stack.frames.length <= 2) shallowKb += stack.residentKb + stack.cacheKb;
    }
    const now = Date.now();
    return {
      pid: this.pid,
      command: this.#options.command ?? "",
      state: this.#state,
      ...(this.#exit ? { exit: this.#exit } : {}),
      startedAt: new Date(this.#startedAt).toISOString(),
      updatedAt: new Date(current.time || now).toISOString(),
      elapsedMs: now - this.#startedAt,
      periodMs: (this.#options.periodS ?? 1) * 1000,
      pageSizeKb: this.#pageSizeKb,
      maxPages: this.#options.maxPages ?? DEFAULT_MAX_PAGES,
      allPages: this.#options.allPages ?? false,
      attributed: {
        residentKb: current.residentKb,
        cacheKb: current.cacheKb,
        stacks: current.stacks.length,
      },
      process: memory ?? null,
      atAttach: this.#atAttach ?? null,
      unattributedKb: memory ? Math.max(0, memory.rssKb - current.residentKb) : null,
      lost: { pages: this.#lostPages, events: this.lostEvents },
      shallowKb,
      frozen: this.#frozen,
    };
  }

  #onMessage(message: BpftraceMessage): void {
    if (message.type === "printf") {
      for (const line of message.text.split("\n")) {
        if (line.startsWith("F ")) {
          this.#frozen = true;
          const signal = line.split(" ")[2];
          this.#debug(
            `pid ${this.pid} started exiting (${
              signal === "0" ? "exit_group" : `signal ${signal}`
            }): the counts stay as they were`,
          );
        } else if (line.startsWith("E ")) {
          this.#finalNext = true;
        }
      }
    } else if (message.type === "map" && message.name === "@mem") {
      const final = this.#finalNext;
      if (!final) this.#pending = this.#pending.filter((p) => p.final); // newest wins
      this.#pending.push({
        entries: message.entries,
        final,
        time: Date.now(),
        frozen: this.#frozen,
      });
      this.#working ??= this.#work();
    }
  }

  async #work(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const next = this.#pending.shift()!;
        try {
          await this.#snapshot(next);
        } catch (error) {
          this.#debug(`cannot use a memprof snapshot: ${error}`);
        }
      }
    } finally {
      this.#working = undefined;
    }
  }

  async #idle(): Promise<void> {
    while (this.#working) await this.#working;
  }

  async #snapshot({ entries, final, time, frozen }: _Pending): Promise<void> {
    const { stacks: pages, lostPages } = parseMemMap(entries);
    this.#lostPages = lostPages;
    const missing = pages.filter((p) => !this.#frames.has(p.key));
    if (missing.length > 0) {
      await this.#symbolizer.refreshMaps(); // new stacks may run through new libraries
      const resolved = await this.#symbolizer.resolveStacks(missing.map((p) => p.addresses));
      missing.forEach((p, i) => this.#frames.set(p.key, resolved[i]));
    }
    const live = new Set(pages.map((p) => p.key));
    for (const key of this.#frames.keys()) if (!live.has(key)) this.#frames.delete(key);
    const kb = this.#pageSizeKb;
    let residentKb = 0;
    let cacheKb = 0;
    const stacks: ProfileStack[] = pages.map((p) => {
      residentKb += p.residentPages * kb;
      cacheKb += p.cachePages * kb;
      return {
        frames: this.#frames.get(p.key)!,
        residentKb: p.residentPages * kb,
        cacheKb: p.cachePages * kb,
      };
    });
    const process = this.#state === "exited" || frozen
      ? undefined
      : await readProcessMemory(this.pid, this.#options.procDir);
    if (process) this.#lastProcess = process;
    this.#current = { time, stacks, residentKb, cacheKb, process, final };
    this.samples.push({
      time,
      residentKb,
      cacheKb,
      ...(process ? { rssKb: process.rssKb, anonKb: process.anonKb } : {}),
    });
    this.#options.onSnapshot?.(this.#current);
  }
}
