import assert from "node:assert/strict";
import { limitsResult } from "./limits_result.ts";

Deno.test("limitsResult() says how [limits] will be enforced and why", () => {
  const limits = { memoryMaxBytes: 512 * 1024 * 1024, cpuMaxPercent: 50 };
  assert.deepEqual(
    limitsResult({ method: "cgroup", reason: "wrapp is root and cgroup v2 has …" }, limits),
    {
      check: "limits",
      status: "ok",
      message:
        "memory_max 512 MiB, cpu_max 50% in a cgroup of the service's own, because wrapp is root and cgroup v2 has …",
    },
  );
  const rss = limitsResult({
    method: "rss",
    reason: "wrapp is not root (a cgroup of its own needs root)",
    unenforced: "cpu_max needs a cgroup: wrapp is not root (a cgroup of its own needs root)",
  }, limits);
  assert.equal(rss.status, "warning");
  assert.equal(
    rss.message,
    "memory_max: wrapp stops the service when its RSS goes over it, because wrapp is not root (a cgroup of its own needs root); cpu_max needs a cgroup: wrapp is not root (a cgroup of its own needs root)",
  );
  assert.ok(rss.fix);
  const none = limitsResult(
    { method: "none", reason: "x", unenforced: "cpu_max needs a cgroup: x" },
    { cpuMaxPercent: 50 },
  );
  assert.equal(none.message, "cpu_max needs a cgroup: x");
});
