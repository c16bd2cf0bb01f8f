import assert from "node:assert/strict";
import { errnoName, SyscallError, syscallNumbers } from "./libc.ts";

Deno.test("syscallNumbers() gives bpf and perf_event_open of x86_64 and aarch64", () => {
  assert.deepEqual(syscallNumbers("x86_64"), { bpf: 321, perfEventOpen: 298 });
  assert.deepEqual(syscallNumbers("aarch64"), { bpf: 280, perfEventOpen: 241 });
  assert.throws(
    () => syscallNumbers("riscv64"),
    /No bpf syscall numbers for the architecture "riscv64"/,
  );
});

Deno.test("SyscallError names the call and the errno", () => {
  const error = new SyscallError("bpf(BPF_MAP_CREATE)", 1);
  assert.equal(error.message, "bpf(BPF_MAP_CREATE) failed: EPERM (operation not permitted)");
  assert.equal(error.errno, 1);
  assert.equal(
    new SyscallError("bpf(BPF_PROG_LOAD)", 13, "R1 invalid mem access").message,
    "bpf(BPF_PROG_LOAD) failed: EACCES (permission denied): R1 invalid mem access",
  );
  assert.equal(errnoName(4242), "errno 4242");
});
