import assert from "node:assert/strict";
import { RestartPolicy } from "./restart_policy.ts";
import type { RestartConfig } from "../../core/config/config.ts";

const config = (overrides: Partial<RestartConfig> = {}): RestartConfig => ({
  policy: "on-failure",
  delayMs: 100,
  maxDelayMs: 1000,
  resetAfterMs: 10_000,
  maxRestarts: 100,
  windowMs: 60_000,
  ...overrides,
});

Deno.test("RestartPolicy never restarts with policy never", () => {
  const decision = new RestartPolicy(config({ policy: "never" })).decide({ code: 1 }, 5, 0);
  assert.deepEqual(decision, {
    action: "exit",
    reason: 'ended with exit code 1; restart policy is "never"',
    gaveUp: false,
  });
});

Deno.test("RestartPolicy on-failure restarts after a failure or a signal, not after exit 0", () => {
  const policy = new RestartPolicy(config());
  assert.equal(policy.decide({ code: 0 }, 5, 0).action, "exit");
  assert.equal(policy.decide({ code: 3 }, 5, 0).action, "restart");
  assert.equal(policy.decide({ signal: "SIGSEGV" }, 5, 0).action, "restart");
});

Deno.test("RestartPolicy always restarts after exit 0 too", () => {
  const decision = new RestartPolicy(config({ policy: "always" })).decide({ code: 0 }, 5, 0);
  assert.equal(decision.action, "restart");
});

Deno.test("RestartPolicy doubles the delay up to the cap and numbers the attempts", () => {
  const policy = new RestartPolicy(config());
  const delays = [];
  for (let i = 0; i < 6; i++) {
    const d = policy.decide({ code: 1 }, 5, i);
    assert.equal(d.action, "restart");
    if (d.action === "restart") {
      delays.push(d.delayMs);
      assert.equal(d.attempt, i + 1);
    }
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
});

Deno.test("RestartPolicy resets the delay after a run that lasted reset_after", () => {
  const policy = new RestartPolicy(config());
  policy.decide({ code: 1 }, 5, 0);
  policy.decide({ code: 1 }, 5, 1);
  const d = policy.decide({ code: 1 }, 10_000, 2);
  assert.equal(d.action === "restart" && d.delayMs, 100);
});

Deno.test("RestartPolicy gives up after max_restarts within the window, and forgets old ones", () => {
  const policy = new RestartPolicy(config({ maxRestarts: 2, windowMs: 1000 }));
  assert.equal(policy.decide({ code: 1 }, 5, 0).action, "restart");
  assert.equal(policy.decide({ code: 1 }, 5, 100).action, "restart");
  assert.deepEqual(policy.decide({ code: 1 }, 5, 200), {
    action: "exit",
    reason: "ended with exit code 1; giving up after 2 restarts within 1 s",
    gaveUp: true,
  });
  // Once the window has slid past the first restarts, restarting is allowed again.
  assert.equal(policy.decide({ code: 1 }, 5, 1500).action, "restart");
});

Deno.test("RestartPolicy counts a run the watchdog stopped as a failure, whatever its exit", () => {
  const policy = new RestartPolicy(config());
  const decision = policy.decide({ code: 0 }, 5000, 10_000, { hung: "no WATCHDOG=1 for 2 s" });
  assert.equal(decision.action, "restart");
  assert.match(
    decision.reason,
    /^ended with exit code 0, stopped by the watchdog \(no WATCHDOG=1 for 2 s\) after 5 s/,
  );
});
