import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { resolveSyscallFilter, SYSCALL_CLASSES } from "./syscall_classes.ts";
import { SYSCALL_ARCHES, syscallNumber } from "./syscall_table.ts";

Deno.test("resolveSyscallFilter() takes names, classes and comma lists", () => {
  const selected = resolveSyscallFilter(["getpid,openat", "net"], "x86_64");
  assert.ok(selected.has(39));
  assert.ok(selected.has(257));
  assert.ok(selected.has(syscallNumber("connect", "x86_64")!));
  assert.ok(!selected.has(syscallNumber("read", "x86_64")!));
});

Deno.test("resolveSyscallFilter() accepts strace's %class spelling and long class names", () => {
  const a = resolveSyscallFilter(["%file"], "aarch64");
  const b = resolveSyscallFilter(["file"], "aarch64");
  assert.deepEqual(a, b);
  assert.ok(a.has(56), "openat on aarch64");
  assert.deepEqual(
    resolveSyscallFilter(["network"], "x86_64"),
    resolveSyscallFilter(["net"], "x86_64"),
  );
});

Deno.test("resolveSyscallFilter() names an unknown item and suggests one", () => {
  assert.throws(
    () => resolveSyscallFilter(["opneat"], "x86_64"),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message.startsWith('Unknown syscall or class "opneat" in --filter for x86_64') &&
      error.message.includes('(did you mean "openat"?)'),
  );
  // open(2) does not exist on aarch64.
  assert.throws(() => resolveSyscallFilter(["open"], "aarch64"), UsageError);
  assert.throws(() => resolveSyscallFilter(["toString"], "x86_64"), UsageError);
});

Deno.test("every class member exists on at least one architecture", () => {
  for (const [name, members] of Object.entries(SYSCALL_CLASSES)) {
    for (const member of members) {
      assert.ok(
        SYSCALL_ARCHES.some((arch) => syscallNumber(member, arch) !== undefined),
        `${name}: ${member}`,
      );
    }
  }
});
