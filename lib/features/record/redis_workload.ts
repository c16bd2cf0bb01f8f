/**
 * `wrapp record redis`: redis-server on a free loopback port, without persistence, in a
 * private folder, loaded by `redis-benchmark` (PING, SET and GET in rounds of 5000
 * requests from 10 clients) until the duration passes, and at least until each test ran
 * once: redis-benchmark runs them one after the other, and on a busy machine the first
 * round alone can outlast a short duration.
 *
 * @module
 */

import { programVersion } from "./app_version.ts";
import { tcpProbe, waitUntilReady } from "./ready_probe.ts";
import type { PlanContext, RecordPlan, Workload } from "./workload.ts";

/** Requests of each test in one redis-benchmark round. */
export const REDIS_ROUND_REQUESTS = 5_000;

/** The tests redis-benchmark runs for `-t set,get,ping`, in its order. */
export const REDIS_TESTS: readonly string[] = Object.freeze([
  "PING_INLINE",
  "PING_MBULK",
  "SET",
  "GET",
]);

/** The built-in `redis` workload. */
export const REDIS_WORKLOAD: Workload = {
  name: "redis",
  description:
    `redis-server (no persistence) loaded by redis-benchmark: SET, GET and PING, 10 clients`,
  needs: [
    { program: "redis-server", package: "redis-server" },
    { program: "redis-benchmark", package: "redis-tools" },
  ],
  plan(context: PlanContext): Promise<RecordPlan> {
    const server = context.programs["redis-server"];
    const port = String(context.port);
    return Promise.resolve({
      app: {
        command: [
          server,
          "--port",
          port,
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          context.workDir,
        ],
        stopSignal: "SIGTERM",
        signalGroup: false,
      },
      setup: [],
      ready: () => waitUntilReady(tcpProbe(context.port, "PING\r\n", /^\+PONG\r\n/)),
      prepare: [],
      load: {
        command: [
          context.programs["redis-benchmark"],
          "-h",
          "127.0.0.1",
          "-p",
          port,
          "-t",
          "set,get,ping",
          "-n",
          String(REDIS_ROUND_REQUESTS),
          "-c",
          "10",
          "-l",
          "-q",
        ],
        stopsItself: false,
        stopSignal: "SIGINT",
        covered: (output) => {
          const done = new Set(redisBenchmarkResults(output).map((line) => line.split(":")[0]));
          return REDIS_TESTS.every((test) => done.has(test));
        },
      },
      results: redisBenchmarkResults,
      version: () => programVersion(server, ["--version"]),
    });
  },
};

/**
 * redis-benchmark's figures: per test, the mean of the rounds' requests per second and
 * the last round's median latency (`SET: 131579 requests/s, p50 0.047 ms (3 rounds)`).
 */
export function redisBenchmarkResults(output: string): string[] {
  const tests = new Map<string, { rates: number[]; p50?: string }>();
  const pattern = /([A-Z_]+): ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/g;
  for (const match of output.matchAll(pattern)) {
    const test = tests.get(match[1]) ?? { rates: [] };
    test.rates.push(Number(match[2]));
    if (match[3] !== undefined) test.p50 = match[3];
    tests.set(match[1], test);
  }
  return [...tests].map(([name, { rates, p50 }]) => {
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    return `${name}: ${Math.round(mean)} requests/s${
      p50 ? `, p50 ${p50} ms` : ""
    } (${rates.length} ${rates.length === 1 ? "round" : "rounds"} of ${REDIS_ROUND_REQUESTS})`;
  });
}
