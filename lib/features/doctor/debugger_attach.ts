/**
 * Whether a debugger may attach to the service: Yama's `kernel.yama.ptrace_scope`, and
 * the gdb ([watchdog]) and gdbserver ([debug]) lines it makes a problem.
 *
 * @module
 */

import type { CheckResult } from "./check_result.ts";

/**
 * `kernel.yama.ptrace_scope` read from `<procRoot>/sys/kernel/yama/ptrace_scope`;
 * `undefined` without the Yama module (then only the usual same-user rule applies).
 */
export async function readPtraceScope(procRoot = "/proc"): Promise<number | undefined> {
  try {
    const scope = Number(
      (await Deno.readTextFile(`${procRoot}/sys/kernel/yama/ptrace_scope`)).trim(),
    );
    return Number.isInteger(scope) ? scope : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why gdbserver (or `tool`: gdb for [watchdog]) could not attach to the service under
 * Yama's `scope`, or `undefined` when it can. The debugger is the service's sibling (both
 * are wrapp's children), not its ancestor, so scope 1 already needs CAP_SYS_PTRACE (root).
 */
export function ptraceScopeProblem(
  scope: number | undefined,
  root: boolean,
  tool = "gdbserver",
): string | undefined {
  if (scope === undefined || scope <= 0) return undefined;
  if (scope >= 3) {
    return `kernel.yama.ptrace_scope is 3: no process may attach to another, not even root's ${tool}`;
  }
  if (root) return undefined;
  return `kernel.yama.ptrace_scope is ${scope}: only root may attach ${tool} to the service`;
}

/**
 * The gdbserver line: `found` from {@linkcode programResult}, made a problem when the
 * kernel would not let gdbserver attach to the service (`ptraceProblem`).
 */
export function gdbserverResult(found: CheckResult, ptraceProblem?: string): CheckResult {
  return attachResult({ ...found, check: "gdbserver" }, ptraceProblem);
}

/**
 * A debugger's line (`found` from {@linkcode programResult}: gdb for [watchdog], gdbserver
 * for [debug]) made a problem when the kernel would not let it attach to the service.
 */
export function attachResult(found: CheckResult, ptraceProblem?: string): CheckResult {
  if (found.status !== "ok" || ptraceProblem === undefined) return found;
  return {
    check: found.check,
    status: "missing",
    message: `${found.message}, but ${ptraceProblem}`,
    fix: /is 3/.test(ptraceProblem)
      ? "boot with kernel.yama.ptrace_scope below 3 (it cannot be lowered at run time)"
      : "run wrapp as root, or sysctl -w kernel.yama.ptrace_scope=0",
  };
}
