import assert from "node:assert/strict";
import {
  errnoName,
  hostArch,
  SYSCALL_ARCHES,
  syscallName,
  syscallNames,
  syscallNumber,
} from "./syscall_table.ts";

// Numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl and
// include/uapi/asm-generic/unistd.h (arm64).
const WELL_KNOWN: Record<string, { x86_64: number | undefined; aarch64: number | undefined }> = {
  read: { x86_64: 0, aarch64: 63 },
  write: { x86_64: 1, aarch64: 64 },
  open: { x86_64: 2, aarch64: undefined },
  close: { x86_64: 3, aarch64: 57 },
  mmap: { x86_64: 9, aarch64: 222 },
  ioctl: { x86_64: 16, aarch64: 29 },
  getpid: { x86_64: 39, aarch64: 172 },
  clone: { x86_64: 56, aarch64: 220 },
  execve: { x86_64: 59, aarch64: 221 },
  exit: { x86_64: 60, aarch64: 93 },
  fcntl: { x86_64: 72, aarch64: 25 },
  futex: { x86_64: 202, aarch64: 98 },
  clock_nanosleep: { x86_64: 230, aarch64: 115 },
  exit_group: { x86_64: 231, aarch64: 94 },
  openat: { x86_64: 257, aarch64: 56 },
  newfstatat: { x86_64: 262, aarch64: 79 },
  epoll_pwait: { x86_64: 281, aarch64: 22 },
  io_uring_setup: { x86_64: 425, aarch64: 425 },
  clone3: { x86_64: 435, aarch64: 435 },
};

Deno.test("syscallName() maps well-known numbers on x86_64 and aarch64", () => {
  for (const [name, numbers] of Object.entries(WELL_KNOWN)) {
    for (const arch of SYSCALL_ARCHES) {
      const nr = numbers[arch];
      if (nr === undefined) continue;
      assert.equal(syscallName(nr, arch), name, `${arch} ${nr}`);
    }
  }
});

Deno.test("syscallNumber() is the inverse, and knows which calls an architecture lacks", () => {
  for (const [name, numbers] of Object.entries(WELL_KNOWN)) {
    for (const arch of SYSCALL_ARCHES) {
      assert.equal(syscallNumber(name, arch), numbers[arch], `${arch} ${name}`);
    }
  }
  assert.equal(syscallNumber("syscall_999", "x86_64"), 999);
  assert.equal(syscallNumber("no_such_call", "aarch64"), undefined);
});

Deno.test("syscallName() names numbers missing from the table syscall_<n>", () => {
  assert.equal(syscallName(999, "x86_64"), "syscall_999");
  assert.equal(syscallName(1023, "aarch64"), "syscall_1023");
});

Deno.test("syscallNames() lists each table in number order without duplicates", () => {
  for (const arch of SYSCALL_ARCHES) {
    const names = syscallNames(arch);
    assert.ok(names.length > 290, `${arch}: ${names.length}`);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names[0], arch === "x86_64" ? "read" : "io_setup");
  }
});

Deno.test("errnoName() names UAPI and kernel-internal errnos", () => {
  assert.equal(errnoName(1), "EPERM");
  assert.equal(errnoName(2), "ENOENT");
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(110), "ETIMEDOUT");
  assert.equal(errnoName(512), "ERESTARTSYS");
  assert.equal(errnoName(4000), "E4000");
});

Deno.test("hostArch() accepts the two table architectures only", () => {
  assert.equal(hostArch("x86_64"), "x86_64");
  assert.equal(hostArch("aarch64"), "aarch64");
  assert.throws(() => hostArch("riscv64"), RangeError);
  assert.ok(SYSCALL_ARCHES.includes(hostArch()));
});
