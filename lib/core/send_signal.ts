/**
 * `kill(2)` through FFI, for the signals wrapp sends all day (to the service's group, the
 * SIGCONT of a held start): `Deno.kill` loads Deno's process code, and with it its fetch
 * body and web-stream code, the first time it is used (about 3 ms of a start, and memory
 * kept for good). Where glibc cannot be had it is `Deno.kill`.
 *
 * @module
 */

import { glibc, glibcErrno } from "./glibc.ts";
import { SIGNAL_NUMBERS } from "./signals.ts";

const _EPERM = 1;
const _ESRCH = 3;

/**
 * Send `signal` to `pid` (a negative pid: its process group); `0` sends nothing and only
 * checks. Throws like `Deno.kill`: `Deno.errors.NotFound` when there is no such process,
 * `Deno.errors.PermissionDenied` when it may not be signalled.
 */
export function sendSignal(pid: number, signal: Deno.Signal | 0): void {
  const c = glibc();
  if (!c) {
    Deno.kill(pid, signal as Deno.Signal);
    return;
  }
  const number = signal === 0 ? 0 : SIGNAL_NUMBERS[signal];
  if (number === undefined) throw new TypeError(`Unknown signal ${signal}`);
  if (c.kill(pid, number) === 0) return;
  const errno = glibcErrno(c);
  if (errno === _ESRCH) throw new Deno.errors.NotFound(`No such process: ${pid}`);
  if (errno === _EPERM) throw new Deno.errors.PermissionDenied(`Cannot signal ${pid}`);
  throw new Error(`kill(${pid}, ${signal}) failed: errno ${errno}`);
}
