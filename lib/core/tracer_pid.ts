/**
 * Who traces a process (ptrace: strace, gdb), from the `TracerPid:` line of
 * `/proc/<pid>/status`.
 *
 * A traced process that stops itself with SIGSTOP shows the state `t` (tracing stop), as
 * it does at each of its syscalls, never `T`: its stop cannot be told from /proc. Under
 * `strace -f`, wrapp's children are traced too, so a hold that waits for `T` would wait
 * for nothing.
 *
 * @module
 */

/** The pid tracing `pid` (default: this process), or 0 when none does or it is gone. */
export function tracerPid(pid: number | "self" = "self"): number {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return 0;
  }
  return parseTracerPid(status);
}

/** The `TracerPid:` of a `/proc/<pid>/status` text; 0 when it has none. */
export function parseTracerPid(status: string): number {
  const match = /^TracerPid:\s*(\d+)$/m.exec(status);
  return match ? Number(match[1]) : 0;
}
