/**
 * A {@linkcode ByteReader} over a pipe wrapp holds as a bare file descriptor (a child
 * started through FFI, `posix_spawn.ts`): non-blocking `read(2)` calls through FFI, and
 * {@linkcode FdPoller} to sleep until there is more. No Deno resource, no stream: what
 * the child wrote is read straight into the caller's buffer.
 *
 * @module
 */

import type { ByteReader } from "./byte_reader.ts";
import type { FdPoller } from "./fd_poller.ts";
import type { Glibc } from "./glibc.ts";

/**
 * Read `fd` (non-blocking, owned from now on: closed at its end or on cancel).
 * A read that fails other than with EAGAIN ends the reading like the end of the pipe.
 */
export function fdReader(c: Glibc, poller: FdPoller, fd: number): ByteReader {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    poller.forget(fd);
    c.close(fd);
  };
  return {
    async read(buffer) {
      for (let waits = 0; !closed; waits++) {
        const n = Number(c.read(fd, buffer, BigInt(buffer.length)));
        if (n > 0) return buffer.subarray(0, n);
        // 0 is its end. -1 is EAGAIN (nothing yet), unless the poller said it was readable
        // and it still fails: then it is in error.
        if (n === 0 || waits === 2) break;
        await poller.readable(fd);
      }
      close();
      return undefined;
    },
    cancel() {
      close();
      return Promise.resolve();
    },
  };
}
