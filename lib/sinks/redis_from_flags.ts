/**
 * A Redis sink from command-line flags (`--redis URL`, `--redis-password-file FILE`), for
 * the commands that are not driven by a config file: `wrapp serve`, `wrapp trace`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { describeCause, UsageError } from "../errors.ts";
import { parseRedisUrl, redisUrlProblem } from "../config/redis_url.ts";
import { defaultStateDir } from "../config/state_dir.ts";
import { newRunId } from "../tef/run_dir.ts";
import { RedisSink } from "./redis.ts";

/** Options for {@linkcode openRedisSinkFromFlags}. */
export interface RedisFlags {
  /** `--redis`: `redis://[user:password@]host:port` or `rediss://…`. */
  url: string;
  /** `--redis-password-file`; else the URL's password, else `$WRAPP_REDIS_PASSWORD`. */
  passwordFile?: string;
  /** Spool folder. Default `<state dir of streamName>/spool`. */
  spoolDir?: string;
  /** Service name in the keys (`logs:app:<streamName>:trace`). */
  streamName: string;
  /** Pid written in every entry. Default wrapp's. */
  pid?: () => number;
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** One line for the operator (prefixed by the caller). */
  log: (message: string) => void;
  /** Debug logger. */
  debug: (message: string) => void;
}

/**
 * Open a spooled Redis sink and say where it streams (and, when Redis is unreachable,
 * that events wait in the spool). Throws UsageError for a bad URL or password file.
 */
export async function openRedisSinkFromFlags(flags: RedisFlags): Promise<RedisSink> {
  const endpoint = parseRedisUrl(flags.url);
  if (!endpoint) {
    // The URL is not echoed: it may hold a password.
    throw new UsageError(`Invalid --redis: ${redisUrlProblem(flags.url)}`);
  }
  if (flags.passwordFile !== undefined) {
    try {
      endpoint.password = (await Deno.readTextFile(flags.passwordFile)).replace(/\r?\n$/, "");
    } catch (error) {
      throw new UsageError(
        `Cannot read --redis-password-file "${flags.passwordFile}": ${describeCause(error)}`,
      );
    }
  }
  endpoint.password ??= flags.env("WRAPP_REDIS_PASSWORD") || undefined;
  const stateDir = defaultStateDir(flags.streamName, { env: flags.env, uid: Deno.uid() }) ??
    join("/tmp/wrapp", flags.streamName);
  const spoolDir = resolve(flags.spoolDir ?? join(stateDir, "spool"));
  const sink = await RedisSink.connect({
    ...endpoint,
    streamName: flags.streamName,
    runId: newRunId(),
    hostname: Deno.hostname(),
    pid: flags.pid ?? (() => Deno.pid),
    spoolDir,
    onStatus: (event) => flags.log(event.message),
    debug: flags.debug,
  });
  const problem = await sink.healthCheck();
  flags.log(
    `streaming events to Redis at ${sink.address}${
      problem ? ` (${problem}; events wait in spool "${spoolDir}")` : ""
    }`,
  );
  return sink;
}
