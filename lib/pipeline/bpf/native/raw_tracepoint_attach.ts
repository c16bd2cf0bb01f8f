/**
 * Attach a loaded `BPF_PROG_TYPE_RAW_TRACEPOINT` program to a kernel tracepoint with
 * `BPF_RAW_TRACEPOINT_OPEN` (kernel 4.17+): the program gets the tracepoint's own
 * arguments (`TP_PROTO`, as `u64`s), needs neither tracefs nor BTF, and the returned fd is
 * a BPF link: closing it detaches the program at once.
 *
 * Why not `perf_event_open` + `PERF_EVENT_IOC_SET_BPF` (the classic tracepoint program):
 * closing such a perf event waits for RCU grace periods inside `close()`
 * (`perf_event_detach_bpf_prog` calls `synchronize_rcu_tasks_trace()` on 6.x kernels,
 * `perf_trace_event_unreg` calls `tracepoint_synchronize_unregister()` under
 * `event_mutex`); measured on 6.18 with four programs: 94–110 ms to close them in
 * parallel, 180–200 ms in a row (which is what `exit()` does when wrapp leaves them to the
 * kernel). Unregistering a raw tracepoint frees the old probe array with `call_rcu`
 * instead: the four close in 1–3 ms.
 *
 * @module
 */

import { addressOf, check, libc, syscallNumbers } from "./libc.ts";

const _RAW_TRACEPOINT_OPEN = 17;
/** `sizeof(union bpf_attr)` passed: the kernel checks that the bytes past its own are zero. */
const _ATTR_SIZE = 128;

/**
 * Run program `programFd` at every hit of the tracepoint `name` (`sched_process_exec`,
 * without its category); returns the link's fd. Throws a `SyscallError` (`ENOENT` when
 * the kernel has no such tracepoint).
 */
export function attachRawTracepoint(name: string, programFd: number): number {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const attr = new Uint8Array(_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  // struct { __u64 name; __u32 prog_fd; } raw_tracepoint
  view.setBigUint64(0, addressOf(nameBytes), true);
  view.setUint32(8, programFd, true);
  return check(
    `bpf(BPF_RAW_TRACEPOINT_OPEN) of ${name}`,
    libc().syscall4(
      BigInt(syscallNumbers().bpf),
      BigInt(_RAW_TRACEPOINT_OPEN),
      attr,
      BigInt(_ATTR_SIZE),
    ),
  );
}
