/**
 * Syscall numbers ↔ names per architecture, and errno numbers → names.
 *
 * Numbers differ between x86_64 (its own historical table) and aarch64 (the asm-generic
 * table): `openat` is 257 on one and 56 on the other. The tables are generated from the
 * kernel headers by `_tools/generate_syscall_tables.ts`; numbers newer than those headers read
 * as `syscall_<n>`.
 *
 * @module
 */

import { ERRNO_NAMES } from "./errno_names.ts";
import { SYSCALL_NAMES_AARCH64 } from "./syscall_names_aarch64.ts";
import { SYSCALL_NAMES_X86_64 } from "./syscall_names_x86_64.ts";

/** Architectures wrapp has syscall tables for. */
export type SyscallArch = "x86_64" | "aarch64";

/** Every architecture with a table. */
export const SYSCALL_ARCHES: readonly SyscallArch[] = ["x86_64", "aarch64"];

const _NAMES: Readonly<Record<SyscallArch, Readonly<Record<number, string>>>> = {
  x86_64: SYSCALL_NAMES_X86_64,
  aarch64: SYSCALL_NAMES_AARCH64,
};

const _NUMBERS = new Map<SyscallArch, ReadonlyMap<string, number>>();

/**
 * Kernel-internal error codes (include/linux/errno.h) that the `sys_exit` tracepoint
 * can see before signal handling turns them into EINTR or a restart.
 */
const _KERNEL_ERRNO_NAMES: Readonly<Record<number, string>> = Object.freeze({
  512: "ERESTARTSYS",
  513: "ERESTARTNOINTR",
  514: "ERESTARTNOHAND",
  515: "ENOIOCTLCMD",
  516: "ERESTART_RESTARTBLOCK",
  517: "EPROBE_DEFER",
  518: "EOPENSTALE",
  519: "ENOPARAM",
});

/** The architecture wrapp runs on, as a syscall table key; a `RangeError` on any other. */
export function hostArch(arch: string = Deno.build.arch): SyscallArch {
  if (arch === "x86_64" || arch === "aarch64") return arch;
  throw new RangeError(
    `No syscall table for architecture "${arch}": wrapp knows x86_64 and aarch64`,
  );
}

/** Name of syscall `nr` on `arch`: `"openat"`, or `"syscall_462"` when the table lacks it. */
export function syscallName(nr: number, arch: SyscallArch): string {
  return _NAMES[arch][nr] ?? `syscall_${nr}`;
}

/** Number of syscall `name` on `arch` (`syscall_<n>` accepted too), or undefined. */
export function syscallNumber(name: string, arch: SyscallArch): number | undefined {
  let numbers = _NUMBERS.get(arch);
  if (!numbers) {
    numbers = new Map(Object.entries(_NAMES[arch]).map(([nr, n]) => [n, Number(nr)]));
    _NUMBERS.set(arch, numbers);
  }
  const found = numbers.get(name);
  if (found !== undefined) return found;
  const match = /^syscall_(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Every syscall name on `arch`, in number order. */
export function syscallNames(arch: SyscallArch): string[] {
  return Object.entries(_NAMES[arch]).sort((a, b) => Number(a[0]) - Number(b[0])).map(([, n]) => n);
}

/** Name of errno `n` (positive): `"ENOENT"`, or `"E<n>"` when unknown. Same on both architectures. */
export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? _KERNEL_ERRNO_NAMES[n] ?? `E${n}`;
}
