/**
 * A small file rewritten from its start thousands of times a second (the delivery ledger,
 * once per batch sent to Redis): one `pwrite(2)` through FFI per rewrite, where Deno's
 * `seekSync` and `writeSync` are two ops. Measured on a 100-byte state: 4.2 → 1.9 µs.
 *
 * @module
 */

import { glibc } from "./glibc.ts";

/** Rewrites one file from its start. */
export interface Overwriter {
  /** Write `bytes` at offset 0 (into the page cache; no fsync). Throws an `Error` on failure. */
  write(bytes: Uint8Array<ArrayBuffer>): void;
  /** Close its descriptor. Idempotent. */
  close(): void;
}

const _O_WRONLY = 1;
const _O_CLOEXEC = 0o2000000;

/**
 * An {@linkcode Overwriter} of the existing file `path`, or `undefined` when FFI or glibc is
 * not there, or the file cannot be opened: the caller seeks and writes instead.
 */
export function openOverwriter(path: string): Overwriter | undefined {
  const c = glibc();
  if (c === undefined) return undefined;
  const fd = c.open(new TextEncoder().encode(`${path}\0`), _O_WRONLY | _O_CLOEXEC);
  if (fd < 0) return undefined;
  let open = true;
  return {
    write(bytes) {
      if (!open) throw new Error(`"${path}" is closed`);
      let done = 0;
      while (done < bytes.length) {
        const part = bytes.subarray(done);
        const wrote = Number(c.pwrite(fd, part, BigInt(part.length), BigInt(done)));
        if (wrote <= 0) throw new Error(`Cannot write "${path}": pwrite returned ${wrote}`);
        done += wrote;
      }
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}
