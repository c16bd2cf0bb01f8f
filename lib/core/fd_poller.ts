/**
 * Waiting for file descriptors to become readable, for the ones Deno does not know (a
 * child's pipes and pidfd opened through FFI): one epoll set for the whole process, and
 * one `epoll_wait` on Deno's blocking pool while anything is waited for. Nothing runs,
 * and nothing keeps wrapp's event loop alive, while nothing is.
 *
 * Each wait is one-shot (`EPOLLONESHOT`): a descriptor reports once, then waits to be
 * asked again, so a reader that is not reading (backpressure) is not woken.
 *
 * @module
 */

import { type Glibc, glibc } from "./glibc.ts";

const _EPOLLIN = 0x001;
const _EPOLLONESHOT = 1 << 30;
const _EPOLL_CTL_ADD = 1;
const _EPOLL_CTL_DEL = 2;
const _EPOLL_CTL_MOD = 3;
const _O_CLOEXEC = 0o2000000;
const _EFD_NONBLOCK = 0o4000;
const _MAX_EVENTS = 32;
// struct epoll_event is packed on x86_64 (12 bytes, data at 4), not on aarch64 (16, at 8).
const _PACKED = Deno.build.arch === "x86_64";
const _EVENT_BYTES = _PACKED ? 12 : 16;
const _DATA_OFFSET = _PACKED ? 4 : 8;

/** See the module documentation. */
export class FdPoller {
  readonly #c: Glibc;
  readonly #epoll: number;
  readonly #wake: number;
  readonly #added = new Set<number>();
  readonly #waiting = new Map<number, () => void>();
  readonly #events = new Uint8Array(_EVENT_BYTES * _MAX_EVENTS);
  #loop: Promise<void> | undefined;

  private constructor(c: Glibc, epoll: number, wake: number) {
    this.#c = c;
    this.#epoll = epoll;
    this.#wake = wake;
    this.#control(_EPOLL_CTL_ADD, wake, _EPOLLIN);
  }

  /** A poller, or undefined when epoll cannot be had (no glibc through FFI). */
  static open(c: Glibc | undefined = glibc()): FdPoller | undefined {
    if (!c) return undefined;
    const epoll = c.epoll_create1(_O_CLOEXEC);
    if (epoll < 0) return undefined;
    const wake = c.eventfd(0, _O_CLOEXEC | _EFD_NONBLOCK);
    if (wake < 0) {
      c.close(epoll);
      return undefined;
    }
    return new FdPoller(c, epoll, wake);
  }

  /**
   * Resolves once `fd` is readable (or at its end, or in error), or when
   * {@linkcode FdPoller.forget} drops it. One wait per descriptor at a time.
   */
  readable(fd: number): Promise<void> {
    const op = this.#added.has(fd) ? _EPOLL_CTL_MOD : _EPOLL_CTL_ADD;
    if (!this.#control(op, fd, _EPOLLIN | _EPOLLONESHOT)) return Promise.resolve();
    this.#added.add(fd);
    const ready = new Promise<void>((resolve) => this.#waiting.set(fd, resolve));
    this.#loop ??= this.#run();
    return ready;
  }

  /** Stop watching `fd` (before it is closed): a wait on it resolves now. */
  forget(fd: number): void {
    if (this.#added.delete(fd)) this.#control(_EPOLL_CTL_DEL, fd, 0);
    const waiter = this.#waiting.get(fd);
    this.#waiting.delete(fd);
    waiter?.();
    // The loop sleeps in epoll_wait: wake it to see that nothing is waited for any more.
    if (this.#waiting.size === 0 && this.#loop) {
      this.#c.write(this.#wake, new BigUint64Array([1n]), 8n);
    }
  }

  #control(op: number, fd: number, events: number): boolean {
    const event = new Uint8Array(_EVENT_BYTES);
    const view = new DataView(event.buffer);
    view.setUint32(0, events, true);
    view.setBigUint64(_DATA_OFFSET, BigInt(fd), true);
    return this.#c.epoll_ctl(this.#epoll, op, fd, event) === 0;
  }

  async #run(): Promise<void> {
    const view = new DataView(this.#events.buffer);
    let failures = 0;
    while (this.#waiting.size > 0) {
      const n = await this.#c.epoll_wait(this.#epoll, this.#events, _MAX_EVENTS, -1);
      if (n < 0) {
        // EINTR, on the pool thread; anything else that repeats would spin: let every
        // waiter look for itself (a read then finds its descriptor's state).
        if (++failures < 100) continue;
        for (const resolve of this.#waiting.values()) resolve();
        this.#waiting.clear();
        break;
      }
      failures = 0;
      for (let i = 0; i < n; i++) {
        const fd = Number(view.getBigUint64(i * _EVENT_BYTES + _DATA_OFFSET, true));
        if (fd === this.#wake) {
          this.#c.read(this.#wake, new Uint8Array(8), 8n);
          continue;
        }
        const waiter = this.#waiting.get(fd);
        this.#waiting.delete(fd);
        waiter?.();
      }
    }
    this.#loop = undefined;
  }
}

let _poller: FdPoller | null | undefined;

/** The process's poller, opened on first use; undefined without glibc through FFI. */
export function fdPoller(): FdPoller | undefined {
  if (_poller === undefined) _poller = FdPoller.open() ?? null;
  return _poller ?? undefined;
}
