import assert from "node:assert/strict";
import type { Config, RestartConfig } from "../../core/config/config.ts";
import { now } from "../../core/event.ts";
import type { StatusEvent } from "../../core/event.ts";
import { RestartPolicy } from "./restart_policy.ts";
import { type RestartLoopHooks, superviseRuns } from "./restart_loop.ts";
import type { RunOutcome } from "./service_run.ts";
import type { SupervisionContext } from "./supervision_context.ts";

const RESTART: RestartConfig = {
  policy: "on-failure",
  delayMs: 0,
  maxDelayMs: 0,
  resetAfterMs: 60_000,
  maxRestarts: 2,
  windowMs: 300_000,
};

function _context(statuses: Array<[StatusEvent["phase"], string]>, notices: string[]) {
  const context: SupervisionContext = {
    config: { app: { streamName: "svc" } } as unknown as Config,
    runId: "r",
    debug: () => {},
    status: (phase, message) => void statuses.push([phase, message]),
    emit: () => {},
    notice: (text) => Promise.resolve(void notices.push(text)),
    stderrLine: () => {},
  };
  return context;
}

/** Hooks whose runs end as `outcomes` say, one after the other. */
function _hooks(
  outcomes: Array<Omit<RunOutcome, "endedAt">>,
  restart: RestartConfig,
  extra: Partial<RestartLoopHooks> = {},
): RestartLoopHooks & { runs: number; announced: Array<[string, number, number]> } {
  let restarts = 0;
  type Hooks = RestartLoopHooks & { runs: number; announced: Array<[string, number, number]> };
  const hooks: Hooks = {
    runs: 0,
    announced: [] as Array<[string, number, number]>,
    policy: new RestartPolicy(restart),
    runOnce: () => Promise.resolve({ ...outcomes[hooks.runs++], endedAt: now() }),
    stopping: () => false,
    takeRestartRequest: () => false,
    restarts: () => restarts,
    announceRestart: (reason: string, delayMs: number, attempt: number) => {
      restarts = attempt;
      hooks.announced.push([reason, delayMs, attempt]);
    },
    sleep: () => Promise.resolve(),
    ...extra,
  };
  return hooks;
}

Deno.test("superviseRuns() restarts a failing run by policy and ends with the code of the last", async () => {
  const statuses: Array<[StatusEvent["phase"], string]> = [];
  const hooks = _hooks([{ exit: { code: 3 } }, { exit: { code: 0 } }], RESTART);
  const result = await superviseRuns(_context(statuses, []), hooks);
  assert.deepEqual(result, { exit: { code: 0 }, exitCode: 0 });
  assert.equal(hooks.runs, 2);
  assert.equal(hooks.announced.length, 1);
  assert.equal(hooks.announced[0][2], 1);
  assert.deepEqual(statuses, []);
});

Deno.test("superviseRuns() gives up after max_restarts with a warning and a non-zero code", async () => {
  const statuses: Array<[StatusEvent["phase"], string]> = [];
  const notices: string[] = [];
  const hooks = _hooks(
    [{ exit: { signal: "SIGSEGV" } }, { exit: { code: 1 } }, { exit: { code: 1 } }],
    RESTART,
  );
  const result = await superviseRuns(_context(statuses, notices), hooks);
  assert.equal(hooks.runs, 3);
  assert.equal(result.exitCode, 1);
  assert.equal(statuses.length, 1);
  assert.equal(statuses[0][0], "warning");
  assert.match(statuses[0][1], /^svc ended with .*giving up after 2 restarts/);
  assert.deepEqual(notices, [statuses[0][1]]);
});

Deno.test("superviseRuns() counts a hang as a failure, and restarts at once when asked to", async () => {
  let requested = true;
  const hooks = _hooks([{ exit: { code: 0 } }, { exit: { code: 0 }, hung: "no WATCHDOG=1" }], {
    ...RESTART,
    policy: "never",
  }, {
    takeRestartRequest: () => {
      const was = requested;
      requested = false;
      return was;
    },
  });
  const result = await superviseRuns(_context([], []), hooks);
  assert.equal(hooks.runs, 2);
  assert.deepEqual(hooks.announced, [["restart requested; exit code 0", 0, 1]]);
  assert.deepEqual(result, { exit: { code: 0 }, exitCode: 1 });
});

Deno.test("superviseRuns() starts nothing once stopping, and stops after a run when asked to", async () => {
  const none = _hooks([{ exit: { code: 0 } }], RESTART, { stopping: () => true });
  assert.deepEqual(await superviseRuns(_context([], []), none), {
    exit: { code: 0 },
    exitCode: 0,
  });
  assert.equal(none.runs, 0);
  let stopping = false;
  const one = _hooks([{ exit: { code: 143 } }], RESTART, {
    stopping: () => stopping,
    runOnce: () => {
      stopping = true;
      one.runs++;
      return Promise.resolve({ exit: { signal: "SIGTERM" }, endedAt: now() });
    },
  });
  assert.deepEqual(await superviseRuns(_context([], []), one), {
    exit: { signal: "SIGTERM" },
    exitCode: 143,
  });
  assert.equal(one.runs, 1);
  assert.deepEqual(one.announced, []);
});
