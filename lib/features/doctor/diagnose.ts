/**
 * Run every check of this machine and judge each line against what the `--config`
 * service needs: what `wrapp doctor` prints, before formatting.
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import { configRedisEndpoint } from "../../core/config/config_redis_endpoint.ts";
import type { CheckResult } from "./check_result.ts";
import { machineChecks, type MachineChecksOptions, type RedisTarget } from "./machine_checks.ts";
import { CHECK_TIMEOUT_MS, runChecks } from "./run_checks.ts";
import { neededChecks } from "./needed_checks.ts";

/** The Redis a config's `[redis]` names (its Sentinels too), or undefined without one. */
export function redisTargetOf(config: Config | undefined): RedisTarget | undefined {
  if (!config?.redis) return undefined;
  const { dbLogs, replicasAck } = config.redis;
  return { endpoint: configRedisEndpoint(config.redis), db: dbLogs, replicasAck };
}

/**
 * Every line of the report, in order, each marked `needed` or not for `options.config`
 * (see {@linkcode neededChecks}).
 */
export async function diagnose(
  options: MachineChecksOptions,
  debug: (message: string) => void,
): Promise<CheckResult[]> {
  const started = performance.now();
  const results = await runChecks(machineChecks(options), CHECK_TIMEOUT_MS);
  debug(`doctor: ${results.length} checks in ${Math.round(performance.now() - started)} ms`);
  const needs = neededChecks(options.config);
  return results.map(({ check, status, message, fix }): CheckResult => ({
    check,
    status,
    needed: needs(check),
    message,
    ...(fix === undefined ? {} : { fix }),
  }));
}
