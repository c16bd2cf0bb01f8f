/**
 * The native crash watcher: the programs of `lib/features/run/crash/fatal_signal_bpf.ts` loaded and
 * attached by wrapp itself through the `bpf()` syscall (Deno FFI), with no bpftrace
 * process: no LLVM in memory, and it is ready in milliseconds. One per wrapp process
 * serves every service and every restart: wrapp puts each service's pid in the watched
 * set ({@linkcode NativeFatalSignalSource.watch}) before letting it exec.
 *
 * Records arrive through a BPF ring buffer read in place (`mmap`); a thread of Deno's
 * pool sleeps in `epoll_wait` until there is one, so an idle watcher uses no CPU and no
 * timer. {@linkcode NativeFatalSignalSource.close} (or wrapp's death) closes every fd,
 * which detaches the programs at once and frees the maps.
 *
 * {@linkcode NativeFatalSignalSource.hookLoader} attaches the fifth program to a dynamic
 * loader (a uprobe on its `_dl_debug_state`), so a watched process that maps libraries
 * (start-up, `dlopen`) sends a "maps changed" record instead of being polled.
 *
 * @module
 */

import {
  BPF_MAP_TYPE,
  BPF_PROG_TYPE,
  createMap,
  deleteElement,
  loadProgram,
  updateElement,
} from "../../../pipeline/bpf/native/bpf_syscall.ts";
import { check, closeFd, libc } from "../../../pipeline/bpf/native/libc.ts";
import { type MappedRingBuffer, mapRingBuffer } from "../../../pipeline/bpf/native/ring_buffer.ts";
import { attachRawTracepoint } from "../../../pipeline/bpf/native/raw_tracepoint_attach.ts";
import { functionFileOffset } from "../../../pipeline/bpf/native/elf_function_offset.ts";
import { attachUprobe } from "../../../pipeline/bpf/native/uprobe_attach.ts";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import {
  FATAL_SIGNAL_TRACEPOINTS,
  type FatalSignalEvent,
  fatalSignalPrograms,
  LOADER_HOOK_FUNCTION,
  loaderHookProgram,
  parseFatalSignalRecord,
} from "./fatal_signal_bpf.ts";

/** Options for {@linkcode NativeFatalSignalSource.load}. */
export interface NativeFatalSignalOptions {
  /** Called for every record, in order. */
  onEvent: (event: FatalSignalEvent) => void;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** Most pids and threads watched at once (bpftrace's default map size). */
const _MAX_PIDS = 4096;
/** Ring buffer size: room for ~120 signal records (a power of two, whole pages). */
const _RING_BYTES = 64 * 1024;

const _EPOLL_CLOEXEC = 0x80000, _EFD_CLOEXEC = 0x80000, _EFD_NONBLOCK = 0x800;
const _EPOLL_CTL_ADD = 1, _EPOLLIN = 1;

/** The loaded programs and maps; see the module documentation. */
export class NativeFatalSignalSource {
  readonly #fds: number[];
  readonly #pids: number;
  readonly #loaderProgram: number;
  /** The uprobes of {@linkcode NativeFatalSignalSource.hookLoader} (perf event fds). */
  readonly #hooks: number[] = [];
  readonly #ring: MappedRingBuffer;
  readonly #epoll: number;
  readonly #wake: number;
  readonly #onEvent: (event: FatalSignalEvent) => void;
  readonly #debug: DebugLog;
  readonly #loop: Promise<void>;
  #closed = false;

  private constructor(
    fds: number[],
    pids: number,
    loaderProgram: number,
    ring: MappedRingBuffer,
    epoll: number,
    wake: number,
    options: NativeFatalSignalOptions,
  ) {
    this.#fds = fds;
    this.#pids = pids;
    this.#loaderProgram = loaderProgram;
    this.#ring = ring;
    this.#epoll = epoll;
    this.#wake = wake;
    this.#onEvent = options.onEvent;
    this.#debug = options.debug ?? silentDebug;
    this.#loop = this.#run();
  }

  /**
   * Create the maps, load and attach the programs, and start reading. Throws an `Error`
   * saying what failed (`bpf(BPF_MAP_CREATE) failed: EPERM (operation not permitted)`,
   * a verifier refusal with its log, a tracepoint the kernel lacks); nothing is left open
   * then.
   */
  static load(options: NativeFatalSignalOptions): Promise<NativeFatalSignalSource> {
    try {
      return Promise.resolve(NativeFatalSignalSource.#load(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  static #load(options: NativeFatalSignalOptions): NativeFatalSignalSource {
    const c = libc();
    const fds: number[] = [];
    let ring: MappedRingBuffer | undefined;
    try {
      const pids = createMap({
        type: BPF_MAP_TYPE.HASH,
        keySize: 8,
        valueSize: 4,
        maxEntries: _MAX_PIDS,
        name: "wrapp_pids",
      });
      fds.push(pids);
      const events = createMap({
        type: BPF_MAP_TYPE.RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: _RING_BYTES,
        name: "wrapp_crash",
      });
      fds.push(events);
      ring = mapRingBuffer(events, _RING_BYTES);
      const programs = fatalSignalPrograms({ pids, events });
      FATAL_SIGNAL_TRACEPOINTS.forEach((tracepoint, i) => {
        const program = loadProgram({
          type: BPF_PROG_TYPE.RAW_TRACEPOINT,
          instructions: programs[i],
          name: `wrapp_${tracepoint.replace("sched_process_", "")}`,
        });
        fds.push(program);
        fds.push(attachRawTracepoint(tracepoint, program));
      });
      // Loaded now (a verifier refusal fails the whole load); attached by hookLoader().
      const loaderProgram = loadProgram({
        type: BPF_PROG_TYPE.KPROBE,
        instructions: loaderHookProgram({ pids, events }),
        name: "wrapp_loader",
      });
      fds.push(loaderProgram);
      const epoll = check("epoll_create1", c.epoll_create1(_EPOLL_CLOEXEC));
      fds.push(epoll);
      const wake = check("eventfd", c.eventfd(0, _EFD_CLOEXEC | _EFD_NONBLOCK));
      fds.push(wake);
      for (const fd of [events, wake]) {
        // struct epoll_event: events (u32), then data; the data is not used.
        const event = new Uint8Array(16);
        new DataView(event.buffer).setUint32(0, _EPOLLIN, true);
        check("epoll_ctl", c.epoll_ctl(epoll, _EPOLL_CTL_ADD, fd, event));
      }
      return new NativeFatalSignalSource(fds, pids, loaderProgram, ring, epoll, wake, options);
    } catch (error) {
      ring?.unmap();
      for (const fd of fds.reverse()) closeFd(fd);
      throw error;
    }
  }

  /**
   * Load the programs and close them at once: why they cannot load, or `undefined` when
   * they can (`wrapp doctor`).
   */
  static async probe(): Promise<string | undefined> {
    try {
      const source = await NativeFatalSignalSource.load({ onEvent: () => {} });
      await source.close();
      return undefined;
    } catch (error) {
      return describeCause(error);
    }
  }

  /** The file descriptors it holds (maps, programs, links, epoll, eventfd, then uprobes). */
  get fds(): readonly number[] {
    return [...this.#fds, ...this.#hooks];
  }

  /**
   * Send a "maps changed" record whenever a watched process calls `_dl_debug_state` of
   * the dynamic loader at `path` (`/proc/<pid>/root/…` reaches a service's own root). A
   * loader is hooked once for every process using it: call this once per loader file.
   * Throws an `Error` when it has no such function or the uprobe cannot be attached.
   */
  async hookLoader(path: string): Promise<void> {
    if (this.#closed) return;
    const offset = functionFileOffset(await Deno.readFile(path), LOADER_HOOK_FUNCTION);
    if (offset === undefined) {
      throw new Error(`"${path}" has no function ${LOADER_HOOK_FUNCTION}`);
    }
    if (this.#closed) return;
    const fd = await attachUprobe(path, offset, this.#loaderProgram);
    // Closed meanwhile: the reader has closed the others already.
    if (this.#closed) void libc().closeInPool(fd);
    else this.#hooks.push(fd);
  }

  /** Hand the records already in the ring buffer to `onEvent` now, without waiting for the reader. */
  flush(): void {
    if (!this.#closed) this.#drain();
  }

  /** Watch `pid` (a process about to exec, or running) and what it starts. */
  watch(pid: number): void {
    if (this.#closed) return;
    updateElement(this.#pids, _u64(pid), _u32(1));
  }

  /** Stop watching `pid` (its children stay watched); false when it was not watched. */
  unwatch(pid: number): boolean {
    if (this.#closed) return false;
    return deleteElement(this.#pids, _u64(pid));
  }

  /**
   * Read what is left, stop the reader, and close every fd: the programs detach and the
   * maps are freed. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      libc().write(this.#wake, _u64(1), 8n);
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    const events = new Uint8Array(64);
    let failures = 0;
    try {
      while (!this.#closed) {
        const ready = await libc().epoll_wait(this.#epoll, events, 4, -1);
        // -1 is EINTR (a signal to the pool's thread); anything else repeating is fatal.
        if (ready < 0 && ++failures > 100) {
          this.#debug("crash watcher: epoll_wait keeps failing; no more records");
          break;
        }
        if (ready >= 0) failures = 0;
        this.#drain();
      }
      this.#drain();
    } catch (error) {
      this.#debug(`crash watcher: reading records failed: ${describeCause(error)}`);
    } finally {
      this.#closed = true;
      this.#ring.unmap();
      // Removing a uprobe waits for RCU grace periods (130-210 ms on 6.18): on pool
      // threads, while the rest closes at once.
      const hooks = Promise.all(this.#hooks.map((fd) => libc().closeInPool(fd)));
      // In reverse, each link before its program: closing a link detaches the program at
      // once and waits for no RCU grace period (~0.3 ms a link, the twelve fds in under
      // 2 ms, less than handing them to pool threads took).
      for (const fd of [...this.#fds].reverse()) closeFd(fd);
      await hooks;
      this.#hooks.length = 0;
    }
  }

  #drain(): void {
    this.#ring.reader.drain((bytes) => {
      const event = parseFatalSignalRecord(bytes);
      if (event === undefined) return;
      try {
        this.#onEvent(event);
      } catch (error) {
        this.#debug(`crash watcher: handling a record failed: ${describeCause(error)}`);
      }
    });
  }
}

function _u32(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n, true);
  return bytes;
}

function _u64(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  return bytes;
}
