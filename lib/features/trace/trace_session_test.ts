import assert from "node:assert/strict";
import { silentDebug } from "../../core/debug.ts";
import { UsageError } from "../../core/errors.ts";
import { prepareTrace } from "./trace_session.ts";

Deno.test("prepareTrace() refuses a bad filter and a pid that cannot be traced, before bpftrace", async () => {
  const base = { tui: false, filter: [], debug: silentDebug, bpftrace: "/nonexistent/bpftrace" };
  await assert.rejects(
    prepareTrace({ ...base, filter: ["file", "opneat"] }),
    (error) =>
      error instanceof UsageError && /Unknown syscall or class "opneat"/.test(error.message),
  );
  await assert.rejects(
    prepareTrace({ ...base, pid: 2 ** 30 }),
    (error) => error instanceof UsageError && error.message === `No process with pid ${2 ** 30}`,
  );
  await assert.rejects(
    prepareTrace({ ...base, pid: Deno.pid }),
    (error) =>
      error instanceof UsageError &&
      error.message === `Cannot trace wrapp itself (pid ${Deno.pid})`,
  );
});

Deno.test("prepareTrace() names a bpftrace that is missing", async () => {
  const problem = await prepareTrace({
    tui: false,
    filter: ["openat"],
    debug: silentDebug,
    bpftrace: "/nonexistent/bpftrace",
  }).then(() => "ready", (error: Error) => error.message);
  assert.match(problem, /^Cannot start bpftrace: .*\/nonexistent\/bpftrace/);
});
