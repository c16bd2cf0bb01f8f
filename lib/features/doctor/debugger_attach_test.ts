import assert from "node:assert/strict";
import type { CheckResult } from "./check_result.ts";
import {
  attachResult,
  gdbserverResult,
  ptraceScopeProblem,
  readPtraceScope,
} from "./debugger_attach.ts";

Deno.test("gdbserverResult(): found but not allowed to attach is a problem, with the fix", () => {
  const found: CheckResult = { check: "gdbserver", status: "ok", message: "/usr/bin/gdbserver" };
  assert.deepEqual(gdbserverResult(found), found);
  assert.deepEqual(
    gdbserverResult(
      found,
      "kernel.yama.ptrace_scope is 1: only root may attach gdbserver to the service",
    ),
    {
      check: "gdbserver",
      status: "missing",
      message:
        "/usr/bin/gdbserver, but kernel.yama.ptrace_scope is 1: only root may attach gdbserver to the service",
      fix: "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0",
    },
  );
  const absent: CheckResult = {
    check: "gdbserver",
    status: "missing",
    message: '"gdbserver" is not in PATH',
    fix: "apt-get install gdbserver",
  };
  assert.deepEqual(gdbserverResult(absent, "anything"), absent);
});

Deno.test("attachResult(): gdb found but not allowed to attach to the service is a problem", () => {
  const found: CheckResult = { check: "gdb", status: "ok", message: "/usr/bin/gdb" };
  assert.deepEqual(attachResult(found, undefined), found);
  const problem = attachResult(found, ptraceScopeProblem(1, false, "gdb"));
  assert.equal(problem.check, "gdb");
  assert.equal(problem.status, "missing");
  assert.equal(
    problem.message,
    "/usr/bin/gdb, but kernel.yama.ptrace_scope is 1: only root may attach gdb to the service",
  );
  assert.equal(problem.fix, "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0");
});

Deno.test("readPtraceScope() reads Yama's setting, undefined without Yama", async () => {
  const proc = await Deno.makeTempDir({ prefix: "wrapp-doctor-" });
  try {
    assert.equal(await readPtraceScope(proc), undefined);
    await Deno.mkdir(`${proc}/sys/kernel/yama`, { recursive: true });
    await Deno.writeTextFile(`${proc}/sys/kernel/yama/ptrace_scope`, "1\n");
    assert.equal(await readPtraceScope(proc), 1);
  } finally {
    await Deno.remove(proc, { recursive: true });
  }
});

Deno.test("ptraceScopeProblem(): scope 1 and 2 need root for gdbserver, 3 forbids it to all", () => {
  assert.equal(ptraceScopeProblem(undefined, false), undefined);
  assert.equal(ptraceScopeProblem(0, false), undefined);
  assert.equal(ptraceScopeProblem(1, true), undefined);
  assert.equal(ptraceScopeProblem(2, true), undefined);
  assert.equal(
    ptraceScopeProblem(1, false),
    "kernel.yama.ptrace_scope is 1: only root may attach gdbserver to the service",
  );
  assert.match(
    ptraceScopeProblem(3, true)!,
    /^kernel\.yama\.ptrace_scope is 3: no process may attach/,
  );
});
