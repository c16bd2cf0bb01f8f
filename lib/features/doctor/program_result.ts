/**
 * Doctor's line for a program wrapp runs (gdb, setpriv, prlimit, c++filt…): is it
 * installed, and what needs it.
 *
 * @module
 */

import { findProgram } from "../../core/find_executable.ts";
import type { CheckResult, CheckStatus } from "./check_result.ts";

/** Whether `program` is installed. */
export async function programResult(spec: {
  check: string;
  program: string;
  feature: string;
  fix: string;
  whenMissing?: CheckStatus;
  path?: string;
}): Promise<CheckResult> {
  const found = await findProgram(spec.program, spec.path);
  if (found !== undefined) return { check: spec.check, status: "ok", message: found };
  return {
    check: spec.check,
    status: spec.whenMissing ?? "missing",
    message: `${
      spec.program.includes("/")
        ? `no executable file at "${spec.program}"`
        : `"${spec.program}" is not in PATH`
    } (needed for ${spec.feature})`,
    fix: spec.fix,
  };
}
