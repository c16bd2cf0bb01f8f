/**
 * Attach a loaded `BPF_PROG_TYPE_KPROBE` program to a uprobe: an instruction of an ELF file,
 * for every process that runs it (kernel 4.17+: the `uprobe` PMU of `perf_event_open`, so
 * neither tracefs nor `uprobe_events` are touched). The probe costs nothing until the
 * instruction runs; then a trap, the program, and back.
 *
 * The returned fd is a perf event holding the program (`PERF_EVENT_IOC_SET_BPF`): closing
 * it removes the probe and detaches the program.
 *
 * @module
 */

import { addressOf, check, closeFd, libc, syscallNumbers } from "./libc.ts";

/** `sizeof(struct perf_event_attr)` up to `config2` (`PERF_ATTR_SIZE_VER1`). */
const _ATTR_SIZE = 72;
const _PERF_FLAG_FD_CLOEXEC = 8;
const _PERF_EVENT_IOC_ENABLE = 0x2400n; // _IO('$', 0)
const _PERF_EVENT_IOC_SET_BPF = 0x40042408n; // _IOW('$', 8, __u32)

/** Where the kernel says which PMU number uprobes have. */
const _UPROBE_TYPE = "/sys/bus/event_source/devices/uprobe/type";

/**
 * The `perf_event_attr.type` of uprobes on this kernel. Throws an `Error` saying so when
 * the kernel has none (no `CONFIG_UPROBE_EVENTS`, or older than 4.17).
 */
export function uprobePmuType(): number {
  let text: string;
  try {
    text = Deno.readTextFileSync(_UPROBE_TYPE);
  } catch (error) {
    throw new Error(
      `Cannot read "${_UPROBE_TYPE}": this kernel has no uprobe PMU (${(error as Error).message})`,
      { cause: error },
    );
  }
  const type = Number(text.trim());
  if (!Number.isSafeInteger(type)) throw new Error(`"${_UPROBE_TYPE}" holds "${text.trim()}"`);
  return type;
}

/**
 * Run program `programFd` whenever any process executes the instruction at file offset
 * `offset` of the ELF file `path`; resolves with the perf event's fd. The kernel writes
 * the breakpoint into every process that maps the file (12-50 ms on 6.18): that happens
 * on a pool thread. Rejects with a `SyscallError` (`ENOENT` for a missing file, `EINVAL`
 * for an offset outside its code).
 */
export async function attachUprobe(
  path: string,
  offset: number,
  programFd: number,
): Promise<number> {
  const pathBytes = new TextEncoder().encode(`${path}\0`);
  const attr = new Uint8Array(_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(0, uprobePmuType(), true); // type
  view.setUint32(4, _ATTR_SIZE, true); // size
  // config 0: an entry probe (bit 0 would make it a return probe).
  view.setBigUint64(16, 1n, true); // sample_period: every hit
  view.setBigUint64(56, addressOf(pathBytes), true); // config1: uprobe_path
  view.setBigUint64(64, BigInt(offset), true); // config2: probe_offset
  const c = libc();
  // pid -1, cpu 0: every process, on whatever CPU it runs (the program runs for every hit).
  const args = [
    BigInt(syscallNumbers().perfEventOpen),
    attr,
    -1n,
    0n,
    -1n,
    BigInt(_PERF_FLAG_FD_CLOEXEC),
  ] as const;
  let fd = Number(await c.syscall6InPool(...args));
  // The pool thread's errno is out of reach: a failed call is repeated here to read it.
  if (fd < 0) {
    fd = check(`perf_event_open(uprobe ${path}+0x${offset.toString(16)})`, c.syscall6(...args));
  }
  // The kernel reads the path through its address only: it lives until here.
  void pathBytes.byteLength;
  try {
    check("ioctl(PERF_EVENT_IOC_SET_BPF)", c.ioctl(fd, _PERF_EVENT_IOC_SET_BPF, BigInt(programFd)));
    check("ioctl(PERF_EVENT_IOC_ENABLE)", c.ioctl(fd, _PERF_EVENT_IOC_ENABLE, 0n));
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}
