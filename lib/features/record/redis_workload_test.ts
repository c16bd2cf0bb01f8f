import assert from "node:assert/strict";
import { REDIS_WORKLOAD, redisBenchmarkResults } from "./redis_workload.ts";

Deno.test("redisBenchmarkResults() averages each test over the rounds", () => {
  const output = [
    "SET: rps=120000.0 (overall: 118000.0) avg_msec=0.050 (overall: 0.051)\r",
    "\rSET: 131578.95 requests per second, p50=0.047 msec",
    "\rGET: 100000.00 requests per second, p50=0.055 msec",
    "\rSET: 128421.05 requests per second, p50=0.049 msec",
    "\rPING_MBULK: 90000.00 requests per second",
  ].join("\n");
  assert.deepEqual(redisBenchmarkResults(output), [
    "SET: 130000 requests/s, p50 0.049 ms (2 rounds of 5000)",
    "GET: 100000 requests/s, p50 0.055 ms (1 round of 5000)",
    "PING_MBULK: 90000 requests/s (1 round of 5000)",
  ]);
  assert.deepEqual(redisBenchmarkResults("Could not connect to Redis at 127.0.0.1:1"), []);
});

Deno.test("the redis plan: a private, non-persistent server on the port, benchmark in rounds", async () => {
  const plan = await REDIS_WORKLOAD.plan({
    workDir: "/tmp/w",
    port: 4567,
    durationMs: 5000,
    programs: { "redis-server": "/x/redis-server", "redis-benchmark": "/x/redis-benchmark" },
  });
  assert.deepEqual(plan.app.command, [
    "/x/redis-server",
    "--port",
    "4567",
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/tmp/w",
  ]);
  assert.equal(plan.app.stopSignal, "SIGTERM");
  assert.deepEqual(plan.load?.command.slice(0, 5), [
    "/x/redis-benchmark",
    "-h",
    "127.0.0.1",
    "-p",
    "4567",
  ]);
  assert.ok(plan.load?.command.includes("-l"), "loops until stopped");
  assert.equal(plan.load?.stopsItself, false);
  // Not stopped before each test of -t set,get,ping finished once.
  const covered = plan.load!.covered!;
  const round = (test: string) => `\r${test}: 90000.00 requests per second, p50=0.047 msec\n`;
  assert.equal(covered(""), false);
  assert.equal(covered(round("PING_INLINE") + round("PING_MBULK")), false, "PING only");
  assert.equal(covered(["PING_INLINE", "PING_MBULK", "SET"].map(round).join("")), false);
  assert.equal(covered(["PING_INLINE", "PING_MBULK", "SET", "GET"].map(round).join("")), true);
});
