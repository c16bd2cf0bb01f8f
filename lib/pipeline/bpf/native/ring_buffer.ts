/**
 * The user-space side of a `BPF_MAP_TYPE_RINGBUF`: the kernel's ring buffer is shared
 * through `mmap` (a consumer page wrapp writes, a producer page and the data pages twice
 * in a row, read-only), so reading a record is a few loads and no system call.
 *
 * Each record starts with an 8-byte header: its length with two flag bits (busy: still
 * being written; discarded) and a page offset, then the data, the whole rounded up to 8
 * bytes. {@linkcode RingBufferReader.drain} hands over every committed record and moves
 * the consumer position past it.
 *
 * @module
 */

import { check, libc } from "./libc.ts";

const _BUSY = 0x8000_0000;
const _DISCARD = 0x4000_0000;
const _HEADER = 8;

/** The three views a reader works on: positions and the (doubly mapped) data. */
export interface RingBufferViews {
  /** The consumer position, at the start of the consumer page. */
  consumer: BigUint64Array;
  /** The producer position, at the start of the producer page. */
  producer: BigUint64Array;
  /** The data: `2 × size` bytes (the kernel maps the pages twice, so no record wraps). */
  data: Uint8Array;
  /** The ring's size in bytes, a power of two. */
  size: number;
}

/** Reads committed records out of a ring buffer's shared pages. */
export class RingBufferReader {
  readonly #consumer: BigUint64Array;
  readonly #producer: BigUint64Array;
  readonly #headers: Uint32Array;
  readonly #data: Uint8Array;
  readonly #mask: bigint;

  /** A reader on `views` (tests pass plain buffers; {@linkcode mapRingBuffer} the kernel's). */
  constructor(views: RingBufferViews) {
    if (views.size <= 0 || (views.size & (views.size - 1)) !== 0) {
      throw new RangeError(`A ring buffer's size is a power of two, not ${views.size}`);
    }
    this.#consumer = views.consumer;
    this.#producer = views.producer;
    this.#data = views.data;
    this.#headers = new Uint32Array(views.data.buffer, views.data.byteOffset, views.size / 2);
    this.#mask = BigInt(views.size - 1);
  }

  /**
   * Give `onRecord` each committed record in order (a copy of its data), up to the first
   * one still being written, and release their space. Returns how many were read.
   */
  drain(onRecord: (record: Uint8Array) => void): number {
    // Atomic loads and stores: the kernel publishes with smp_store_release and reads the
    // consumer position with smp_load_acquire (aarch64 reorders plain accesses).
    let consumer = Atomics.load(this.#consumer, 0);
    const producer = Atomics.load(this.#producer, 0);
    let count = 0;
    while (consumer < producer) {
      const offset = Number(consumer & this.#mask);
      const header = Atomics.load(this.#headers, offset / 4);
      if (header & _BUSY) break;
      const length = header & 0x3fff_ffff;
      if (!(header & _DISCARD)) {
        onRecord(this.#data.slice(offset + _HEADER, offset + _HEADER + length));
        count++;
      }
      consumer += BigInt((length + _HEADER + 7) & ~7);
      Atomics.store(this.#consumer, 0, consumer);
    }
    return count;
  }
}

/** A ring buffer mapped from the kernel: the reader and how to unmap it. */
export interface MappedRingBuffer {
  /** The reader. */
  reader: RingBufferReader;
  /** Unmap the pages (the map itself lives until its fd is closed). */
  unmap(): void;
}

const _PROT_READ = 1, _PROT_WRITE = 2, _MAP_SHARED = 1;

/**
 * `mmap` the ring buffer map `fd` of `size` bytes: its consumer page read-write, its
 * producer page and data read-only. Throws a `SyscallError`.
 */
export function mapRingBuffer(fd: number, size: number): MappedRingBuffer {
  const c = libc();
  const page = c.getpagesize();
  const mapped: Array<[Deno.PointerObject, number]> = [];
  const map = (length: number, prot: number, offset: number) => {
    const pointer = c.mmap(null, BigInt(length), prot, _MAP_SHARED, fd, BigInt(offset));
    const address = BigInt(Deno.UnsafePointer.value(pointer));
    // MAP_FAILED is (void *)-1.
    check("mmap of the ring buffer", address === 0n || address === 0xffff_ffff_ffff_ffffn ? -1 : 0);
    mapped.push([pointer!, length]);
    return new Deno.UnsafePointerView(pointer!).getArrayBuffer(length);
  };
  const unmap = () => {
    for (const [pointer, length] of mapped.splice(0)) c.munmap(pointer, BigInt(length));
  };
  try {
    const consumer = map(page, _PROT_READ | _PROT_WRITE, 0);
    const rest = map(page + 2 * size, _PROT_READ, page);
    return {
      reader: new RingBufferReader({
        consumer: new BigUint64Array(consumer, 0, 1),
        producer: new BigUint64Array(rest, 0, 1),
        data: new Uint8Array(rest, page, 2 * size),
        size,
      }),
      unmap,
    };
  } catch (error) {
    unmap();
    throw error;
  }
}
