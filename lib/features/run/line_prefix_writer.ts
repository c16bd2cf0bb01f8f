/**
 * Prefix every line written through it (`"robot | "`), so that several services echoing
 * into one journal stay apart. Lines are written whole: a partial line waits for its end,
 * so lines of two services never mix within one line.
 *
 * @module
 */

import type { ByteWriter } from "./echo.ts";

/** Options for {@linkcode LinePrefixWriter}. */
export interface LinePrefixWriterOptions {
  /** A partial line longer than this is written (prefixed, ended with a newline) without waiting for its end, bytes. Default 65536. */
  maxPendingBytes?: number;
}

/** A {@linkcode ByteWriter} that writes `prefix` before every line it passes on to `target`. */
export class LinePrefixWriter implements ByteWriter {
  readonly #target: ByteWriter;
  readonly #prefix: Uint8Array;
  readonly #maxPending: number;
  #pending: Uint8Array = new Uint8Array(0);

  /** Write to `target`, each line preceded by `prefix`. */
  constructor(target: ByteWriter, prefix: string, options: LinePrefixWriterOptions = {}) {
    this.#target = target;
    this.#prefix = new TextEncoder().encode(prefix);
    this.#maxPending = options.maxPendingBytes ?? 65536;
  }

  /** Write the complete lines of `pending + bytes`, prefixed; keep the rest. Reports all of `bytes` as written. */
  async write(bytes: Uint8Array): Promise<number> {
    const data = _concat(this.#pending, bytes);
    const lastNewline = data.lastIndexOf(0x0a);
    if (lastNewline < 0) {
      this.#pending = data;
      if (data.length > this.#maxPending) await this.flush();
      return bytes.length;
    }
    this.#pending = data.slice(lastNewline + 1);
    const parts: Uint8Array[] = [];
    let start = 0;
    while (start <= lastNewline) {
      const end = data.indexOf(0x0a, start);
      parts.push(this.#prefix, data.subarray(start, end + 1));
      start = end + 1;
    }
    await this.#writeAll(_concat(...parts));
    if (this.#pending.length > this.#maxPending) await this.flush();
    return bytes.length;
  }

  /** Write what waits of an unfinished line, prefixed and ended with a newline (at the end of the output). */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const line = _concat(this.#prefix, this.#pending, new Uint8Array([0x0a]));
    this.#pending = new Uint8Array(0);
    await this.#writeAll(line);
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#target.write(bytes.subarray(written));
  }
}

function _concat(...arrays: Uint8Array[]): Uint8Array {
  if (arrays.length === 1) return arrays[0];
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}
