import assert from "node:assert/strict";
import { pgbenchResults, postgresqlUser } from "./postgresql_workload.ts";

Deno.test("pgbenchResults() keeps transactions, failures, latency and tps", () => {
  const output = `pgbench (15.18 (Debian 15.18-0+deb12u1))
starting vacuum...end.
progress: 5.0 s, 498.2 tps, lat 8.011 ms stddev 3.102, 0 failed
transaction type: <builtin: TPC-B (sort of)>
scaling factor: 1
number of clients: 4
number of transactions actually processed: 4982
number of failed transactions: 0 (0.000%)
latency average = 8.024 ms
latency stddev = 3.100 ms
initial connection time = 5.123 ms
tps = 498.456789 (without initial connection time)
`;
  assert.deepEqual(pgbenchResults(output), [
    "number of transactions actually processed: 4982",
    "number of failed transactions: 0 (0.000%)",
    "latency average = 8.024 ms",
    "latency stddev = 3.100 ms",
    "tps = 498.456789 (without initial connection time)",
  ]);
  assert.deepEqual(pgbenchResults("connection to server failed"), []);
});

Deno.test("postgresqlUser() is never root", async () => {
  const user = await postgresqlUser().catch(() => undefined);
  if (user) assert.notEqual(user.uid, 0);
});
