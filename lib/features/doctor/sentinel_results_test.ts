import assert from "node:assert/strict";
import { replicasResult, sentinelResult } from "./sentinel_results.ts";

const OK = "OK 3 usable Sentinels. Quorum and failover authorization can be reached";
const NAME = { masterName: "mymaster" };

Deno.test("sentinelResult() is ✓ when every Sentinel names the same master and can fail over", () => {
  const answers = ["a:26379", "b:26379", "c:26379"].map((sentinel) => ({
    sentinel,
    master: "10.0.0.2:6379",
    quorum: OK,
  }));
  assert.deepEqual(sentinelResult(answers, NAME), {
    check: "sentinels",
    status: "ok",
    message:
      '3 of 3 Sentinels name master "mymaster" at 10.0.0.2:6379; 3 usable Sentinels can authorize a failover',
  });
});

Deno.test("sentinelResult() warns about a silent Sentinel, a disagreement, or no quorum", () => {
  const silent = sentinelResult([
    { sentinel: "a:26379", master: "10.0.0.2:6379", quorum: OK },
    { sentinel: "b:26379", problem: "connection refused" },
  ], NAME);
  assert.equal(silent.status, "warning");
  assert.equal(
    silent.message,
    '1 of 2 Sentinels name master "mymaster" at 10.0.0.2:6379; 3 usable Sentinels can authorize a failover; "b:26379": connection refused',
  );
  const split = sentinelResult([
    { sentinel: "a:26379", master: "10.0.0.2:6379", quorum: OK },
    { sentinel: "b:26379", master: "10.0.0.3:6379", quorum: OK },
  ], NAME);
  assert.equal(split.status, "warning");
  assert.match(split.message, /disagree on master "mymaster".*"b:26379" names 10\.0\.0\.3:6379/);
  const alone = sentinelResult([{
    sentinel: "a:26379",
    master: "10.0.0.2:6379",
    quorum: "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the majority",
  }], NAME);
  assert.equal(alone.status, "warning");
  assert.match(alone.message, /; no failover possible: 1 usable Sentinels\. Not enough/);
});

Deno.test("sentinelResult() is ✗ when no Sentinel names the master, with the reason", () => {
  const refused = sentinelResult([
    { sentinel: "a:26379", problem: "connection refused" },
    { sentinel: "b:26379", problem: "connection refused" },
  ], NAME);
  assert.equal(refused.status, "missing");
  assert.equal(
    refused.message,
    'Cannot connect to Redis Sentinel at "a:26379", "b:26379": connection refused',
  );
  assert.equal(
    sentinelResult([{ sentinel: "a:26379", problem: "no master of that name" }], NAME).message,
    'No Redis Sentinel at "a:26379" knows master "mymaster" (see "sentinel monitor")',
  );
});

Deno.test("replicasResult() counts the replicas online against replicas_ack", () => {
  const info = [
    "# Replication",
    "role:master",
    "connected_slaves:2",
    "slave0:ip=10.0.0.3,port=6379,state=online,offset=100,lag=0",
    "slave1:ip=10.0.0.4,port=6379,state=wait_bgsave,offset=0,lag=0",
  ].join("\r\n");
  assert.deepEqual(replicasResult(info, 1), {
    check: "replicas",
    status: "ok",
    message: "the master has 1 replica online; replicas_ack = 1",
  });
  const short = replicasResult(info, 2);
  assert.equal(short.status, "missing");
  assert.equal(
    short.message,
    "the master has 1 replica online, replicas_ack = 2 waits for 2: lines stay in the spool until enough replicas confirm them",
  );
  assert.equal(short.fix, "add replicas (replicaof), or lower [redis] replicas_ack to 1");
});
