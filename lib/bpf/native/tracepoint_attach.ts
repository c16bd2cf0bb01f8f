/**
 * Attach a loaded eBPF program to a kernel tracepoint the way libbpf does on kernels
 * without BPF links: `perf_event_open` of the tracepoint (any process, CPU 0: the program
 * hangs off the tracepoint itself, so it runs on every CPU), then
 * `PERF_EVENT_IOC_SET_BPF` and `PERF_EVENT_IOC_ENABLE`. Closing the returned fd detaches
 * the program.
 *
 * @module
 */

import { check, closeFd, libc, syscallNumbers } from "./libc.ts";

const _PERF_TYPE_TRACEPOINT = 2;
const _PERF_FLAG_FD_CLOEXEC = 8;
/** `sizeof(struct perf_event_attr)` of PERF_ATTR_SIZE_VER5, known to every kernel since 4.1. */
const _PERF_ATTR_SIZE = 112;
// _IO('$', 0) and _IOW('$', 8, __u32): the generic ioctl encoding of x86_64 and aarch64.
const _PERF_EVENT_IOC_ENABLE = 0x2400n;
const _PERF_EVENT_IOC_SET_BPF = 0x4004_2408n;

/**
 * Run program `programFd` at every hit of the tracepoint with id `tracepointId` (from
 * tracefs); returns the perf event's fd. Throws a `SyscallError`.
 */
export function attachTracepoint(tracepointId: number, programFd: number): number {
  const attr = new Uint8Array(_PERF_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, _PERF_TYPE_TRACEPOINT, true);
  view.setUint32(4, _PERF_ATTR_SIZE, true);
  view.setBigUint64(8, BigInt(tracepointId), true);
  view.setBigUint64(16, 1n, true); // sample_period
  const fd = check(
    "perf_event_open",
    libc().syscall6(
      BigInt(syscallNumbers().perfEventOpen),
      attr,
      -1n, // any process
      0n, // CPU 0
      -1n,
      BigInt(_PERF_FLAG_FD_CLOEXEC),
    ),
  );
  try {
    check(
      "ioctl(PERF_EVENT_IOC_SET_BPF)",
      libc().ioctl(fd, _PERF_EVENT_IOC_SET_BPF, BigInt(programFd)),
    );
    check("ioctl(PERF_EVENT_IOC_ENABLE)", libc().ioctl(fd, _PERF_EVENT_IOC_ENABLE, 0n));
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}
