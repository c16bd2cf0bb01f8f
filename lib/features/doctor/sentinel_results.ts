/**
 * `wrapp doctor`'s lines for Redis Sentinel and `replicas_ack`: whether the Sentinels
 * answer and name the master (and can authorize a failover), and whether the master has
 * the replicas `replicas_ack` waits for.
 *
 * @module
 */

import type { RedisEndpoint } from "../../core/config/redis_url.ts";
import type { SentinelAnswer } from "../../pipeline/sinks/redis_sentinel.ts";
import type { CheckResult } from "./check_result.ts";

const _SENTINEL_FIX =
  "start the Sentinels, or fix [redis] sentinels / master_name / sentinel_password in the config";

/**
 * The `sentinels` line from what each Sentinel said: ✓ when all name the same master and
 * a failover can be authorized, ! when some do not answer, disagree or lack a quorum, ✗
 * when none names the master.
 */
export function sentinelResult(
  answers: readonly SentinelAnswer[],
  endpoint: Pick<RedisEndpoint, "masterName">,
): CheckResult {
  const name = `"${endpoint.masterName}"`;
  const named = answers.filter((answer) => answer.master !== undefined);
  const failed = answers.filter((answer) => answer.master === undefined);
  const problems = failed.map((answer) => `"${answer.sentinel}": ${answer.problem}`).join("; ");
  if (named.length === 0) {
    const reasons = new Set(failed.map((answer) => answer.problem));
    const all = failed.map((answer) => `"${answer.sentinel}"`).join(", ");
    const [reason] = reasons;
    let message: string;
    if (reasons.size === 1 && reason === "no master of that name") {
      message = `No Redis Sentinel at ${all} knows master ${name} (see "sentinel monitor")`;
    } else if (reasons.size === 1) {
      message = `Cannot connect to Redis Sentinel at ${all}: ${reason}`;
    } else {
      message = `No Redis Sentinel names master ${name}: ${problems}`;
    }
    return { check: "sentinels", status: "missing", message, fix: _SENTINEL_FIX };
  }
  const masters = new Set(named.map((answer) => answer.master));
  if (masters.size > 1) {
    const who = named.map((answer) => `"${answer.sentinel}" names ${answer.master}`).join(", ");
    return {
      check: "sentinels",
      status: "warning",
      message: `The Sentinels disagree on master ${name} (a failover under way?): ${who}`,
      fix: "run wrapp doctor again in a few seconds; if it lasts, check the Sentinels' logs",
    };
  }
  const [master] = masters;
  const quorum = named.find((answer) => answer.quorum !== undefined)?.quorum ?? "";
  const usable = /^OK (\d+) usable/i.exec(quorum)?.[1];
  let message = `${named.length} of ${answers.length} Sentinels name master ${name} at ${master}`;
  message += usable === undefined
    ? `; no failover possible: ${quorum.replace(/^NOQUORUM\s*/i, "")}`
    : `; ${usable} usable Sentinels can authorize a failover`;
  if (failed.length > 0) message += `; ${problems}`;
  return failed.length === 0 && usable !== undefined
    ? { check: "sentinels", status: "ok", message }
    : { check: "sentinels", status: "warning", message, fix: _SENTINEL_FIX };
}

/**
 * The `replicas` line for `replicas_ack = required`, from the master's `INFO replication`:
 * ✓ when it has at least that many replicas online, ✗ otherwise (lines would wait in the
 * spool until enough replicas confirm them).
 */
export function replicasResult(info: string, required: number): CheckResult {
  const online =
    info.split(/\r?\n/).filter((line) => /^slave\d+:/.test(line) && /state=online/.test(line))
      .length;
  const plural = (n: number) => `${n} replica${n === 1 ? "" : "s"}`;
  if (online >= required) {
    return {
      check: "replicas",
      status: "ok",
      message: `the master has ${plural(online)} online; replicas_ack = ${required}`,
    };
  }
  return {
    check: "replicas",
    status: "missing",
    message: `the master has ${
      plural(online)
    } online, replicas_ack = ${required} waits for ${required}: lines stay in the spool until enough replicas confirm them`,
    fix: `add replicas (replicaof), or lower [redis] replicas_ack to ${online}`,
  };
}
