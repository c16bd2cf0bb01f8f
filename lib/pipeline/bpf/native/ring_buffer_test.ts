import assert from "node:assert/strict";
import { RingBufferReader } from "./ring_buffer.ts";

const SIZE = 64;

/** A ring as the kernel lays it out, in plain memory: write records, then read them. */
function fakeRing() {
  const consumer = new BigUint64Array(1);
  const producer = new BigUint64Array(1);
  const data = new Uint8Array(2 * SIZE);
  let position = 0;
  /** Append a record at the producer position, as bpf_ringbuf_output would. */
  const write = (bytes: number[], flags = 0) => {
    const at = position % SIZE;
    // The data pages are mapped twice in a row: write both copies of every byte.
    const put = (offset: number, byte: number) => {
      data[offset % SIZE] = byte;
      data[(offset % SIZE) + SIZE] = byte;
    };
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, bytes.length | flags, true);
    header.forEach((byte, i) => put(at + i, byte));
    bytes.forEach((byte, i) => put(at + 8 + i, byte));
    position += (bytes.length + 8 + 7) & ~7;
    producer[0] = BigInt(position);
  };
  const reader = new RingBufferReader({ consumer, producer, data, size: SIZE });
  return { reader, write, consumer };
}

function drainAll(reader: RingBufferReader): number[][] {
  const out: number[][] = [];
  reader.drain((record) => out.push([...record]));
  return out;
}

Deno.test("RingBufferReader.drain() reads records in order and moves the consumer past them", () => {
  const { reader, write, consumer } = fakeRing();
  assert.deepEqual(drainAll(reader), []);
  write([1, 2, 3]);
  write([4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(drainAll(reader), [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12]]);
  assert.equal(consumer[0], 16n + 24n); // 8-byte headers, data rounded up to 8
  assert.deepEqual(drainAll(reader), []);
});

Deno.test("RingBufferReader.drain() skips discarded records and stops at a busy one", () => {
  const { reader, write, consumer } = fakeRing();
  write([1], 0x4000_0000);
  write([2]);
  write([3], 0x8000_0000);
  write([4]);
  assert.deepEqual(drainAll(reader), [[2]]);
  assert.equal(consumer[0], 32n); // up to the busy record, which is read once committed
});

Deno.test("RingBufferReader.drain() reads a record that wraps past the end of the ring", () => {
  const { reader, write } = fakeRing();
  write([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // 32 bytes
  write([7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]); // 24 bytes: ends at 56
  drainAll(reader);
  const long = Array.from({ length: 20 }, (_, i) => i + 1); // 28 bytes from 56: wraps
  write(long);
  assert.deepEqual(drainAll(reader), [long]);
});

Deno.test("RingBufferReader refuses a size that is not a power of two", () => {
  assert.throws(
    () =>
      new RingBufferReader({
        consumer: new BigUint64Array(1),
        producer: new BigUint64Array(1),
        data: new Uint8Array(96),
        size: 48,
      }),
    /power of two, not 48/,
  );
});
