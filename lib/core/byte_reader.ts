/**
 * Bytes read on demand into the reader's own buffer: a child's stdout or stderr, from a
 * pipe read through FFI (`fd_reader.ts`) or from a Deno `ReadableStream`
 * ({@linkcode streamByteReader}).
 *
 * @module
 */

// Bytes asked for per read of a byte stream: a pipe holds 64 KiB by default.
const _READ_BYTES = 64 * 1024;

/** See the module documentation. */
export interface ByteReader {
  /**
   * The next bytes, or `undefined` at the end and once cancelled: in `buffer` (or in the
   * reader's own memory), valid until the next read. One read at a time.
   */
  read(buffer: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | undefined>;
  /** Stop reading and release the source: a pending read ends with `undefined`. */
  cancel(): Promise<void>;
}

/**
 * A {@linkcode ByteReader} over `readable`: into the caller's buffer with a BYOB reader
 * when it is a byte stream (a child's pipe: the default reader allocates and zeroes a
 * fresh 64 KiB buffer for every read), else chunk by chunk, copied.
 */
export function streamByteReader(readable: ReadableStream<Uint8Array>): ByteReader {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = readable.getReader({ mode: "byob" });
  } catch {
    byob = undefined; // not a byte stream
  }
  const reader = byob ?? readable.getReader();
  // A BYOB read takes (detaches) the memory it reads into and hands it back in its answer:
  // its own, not the caller's.
  let own = new Uint8Array(byob ? _READ_BYTES : 0);
  let pending: Uint8Array | undefined; // what a chunk did not fit in the caller's buffer
  return {
    async read(buffer) {
      if (byob) {
        const { done, value } = await byob.read(own);
        if (done || value === undefined) return undefined;
        own = new Uint8Array(value.buffer as ArrayBuffer);
        return new Uint8Array(value.buffer as ArrayBuffer, value.byteOffset, value.byteLength);
      }
      let chunk = pending;
      pending = undefined;
      while (chunk === undefined || chunk.length === 0) {
        const { done, value } = await (reader as ReadableStreamDefaultReader<Uint8Array>)
          .read();
        if (done) return undefined;
        chunk = value;
      }
      const n = Math.min(chunk.length, buffer.length);
      buffer.set(chunk.subarray(0, n));
      if (n < chunk.length) pending = chunk.subarray(n);
      return buffer.subarray(0, n);
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  };
}
