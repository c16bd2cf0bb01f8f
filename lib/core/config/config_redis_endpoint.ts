/**
 * The Redis endpoint a config's `[redis]` section names, for the commands that read from
 * it (`wrapp logs`, `wrapp doctor`): the server, or the Sentinels that name the master.
 *
 * @module
 */

import type { RedisConfig } from "./config.ts";
import type { RedisEndpoint } from "./redis_url.ts";

/** `[redis]`'s host, port, TLS and credentials, and its Sentinels when it has some. */
export function configRedisEndpoint(redis: RedisConfig): RedisEndpoint {
  const { host, port, tls, username, password } = redis;
  const { sentinels, masterName, sentinelUsername, sentinelPassword } = redis;
  const endpoint: RedisEndpoint = { host, port, tls, username, password };
  if (sentinels) {
    Object.assign(endpoint, { sentinels, masterName, sentinelUsername, sentinelPassword });
  }
  return endpoint;
}
