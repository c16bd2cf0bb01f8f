/**
 * The `--redis URL` flag (`wrapp ps`, `doctor`, and the sinks of `trace`, `memprof`,
 * `record` and `serve`): the endpoint it names, its password from `$WRAPP_REDIS_PASSWORD`
 * when the URL has none.
 *
 * @module
 */

import { parseRedisUrl, type RedisEndpoint, redisUrlProblem } from "./redis_url.ts";
import { UsageError } from "../errors.ts";

/** The endpoint of `--redis url`; a {@linkcode UsageError} that does not echo the URL when it is invalid. */
export function redisUrlFlag(
  url: string,
  env: (name: string) => string | undefined,
): RedisEndpoint {
  const endpoint = parseRedisUrl(url);
  if (!endpoint) {
    // The URL is not echoed: it may hold a password.
    throw new UsageError(`Invalid --redis: ${redisUrlProblem(url)}`);
  }
  endpoint.password ??= env("WRAPP_REDIS_PASSWORD") || undefined;
  return endpoint;
}
