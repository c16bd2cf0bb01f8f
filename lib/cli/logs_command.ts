/**
 * `wrapp logs`: read a service's Redis streams back, and follow them like `journalctl -f`.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { STREAM_NAME_PATTERN } from "../core/config/load_config.ts";
import type { RedisEndpoint } from "../core/config/redis_url.ts";
import { configRedisEndpoint } from "../core/config/config_redis_endpoint.ts";
import {
  REDIS_ENDPOINT_FLAGS,
  REDIS_ENDPOINT_HELP,
  redisEndpointFromFlags,
} from "../pipeline/sinks/redis_from_flags.ts";
import { didYouMean } from "../core/did_you_mean.ts";
import { parseFlags } from "./parse_flags.ts";
import { LOG_STREAMS, type LogStream } from "../features/logs/log_entry.ts";
import { readLogs, type ReadLogsOptions } from "../features/logs/read_logs.ts";

/** `wrapp logs --help`. */
export const LOGS_HELP = `Usage: wrapp logs [<name>] [options]

Print the newest entries of a service's Redis streams (DB 1, logs:app:<name>:<stream>),
oldest first, merged in the order they were written; with -f keep printing new ones as
they arrive (like journalctl -f) until Ctrl-C.

Options:
  -s, --stream S       info, error, status, crash, trace, or all; repeat or use commas
                       (default: info,error)
  -n, --lines N        how many entries to print first (default 20; 0 for none)
  -f, --follow         keep printing new entries
      --json           one JSON object per entry: {"id","stream","message","ts",…}
  -c, --config FILE    take the Redis connection and the name from a service config
${REDIS_ENDPOINT_HELP}
      --db N           database of the log streams (default 1)
  -h, --help           show this help

Each line reads "<time> <stream> <message>", the time being when wrapp read the line.
Both Redis layouts read the same: with layout = "go", stderr lines are in the info
stream and are shown as error, as with layout = "wrapp".

Examples:
  wrapp logs robot -f
  wrapp logs --config /etc/wrapp/robot.toml --stream all -n 100
  wrapp logs robot --stream crash --host 10.0.0.2 --password-file /etc/wrapp/redis.password
  wrapp logs robot -f --sentinel 10.0.0.2:26379,10.0.0.3:26379 --master-name mymaster`;

/** What the command needs from its caller. */
export interface LogsContext {
  /** Print one line (or block) to stdout. */
  print(text: string): void;
  /** Environment lookup (`WRAPP_REDIS_PASSWORD`). */
  env: (name: string) => string | undefined;
  /** Start listening for the user's request to stop following (Ctrl-C); resolves on it. */
  interrupted?: () => Promise<void>;
}

/** Run `wrapp logs ARGS…`; resolves to the exit code. */
export async function logsCommand(args: readonly string[], context: LogsContext): Promise<number> {
  const options = await _parse(args, context);
  if (options === "help") {
    context.print(LOGS_HELP);
    return 0;
  }
  await readLogs(options, context);
  return 0;
}

async function _parse(
  args: readonly string[],
  context: LogsContext,
): Promise<ReadLogsOptions | "help"> {
  const spec = {
    stream: { type: "string", short: "s", multiple: true },
    lines: { type: "string", short: "n" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
    config: { type: "string", short: "c" },
    ...REDIS_ENDPOINT_FLAGS,
    db: { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  const parsed = parseFlags("logs", args, spec, 1);
  const { values, positionals } = parsed;
  if (values.help) return "help";

  let base: RedisEndpoint | undefined;
  let db = 1;
  let name = positionals[0];
  if (values.config !== undefined) {
    const config = await loadConfig(values.config, { checkExecutable: false });
    if (!config.redis) {
      throw new UsageError(
        `Config "${values.config}" has no [redis] section: nothing to read logs from`,
      );
    }
    base = configRedisEndpoint(config.redis);
    db = config.redis.dbLogs;
    name ??= config.app.streamName;
  }
  const endpoint = await redisEndpointFromFlags(values, { base, env: context.env });
  if (values.db !== undefined) db = _integer("--db", values.db, 0, 15);

  if (name === undefined) {
    throw new UsageError(
      'Missing service name: usage "wrapp logs <name>" or "wrapp logs --config svc.toml"',
    );
  }
  if (!STREAM_NAME_PATTERN.test(name)) throw new UsageError(`Invalid service name "${name}"`);

  const streams: LogStream[] = [];
  for (const item of (values.stream ?? ["info,error"]).flatMap((s) => s.split(","))) {
    const stream = item.trim();
    if (stream === "all") streams.push(...LOG_STREAMS);
    else if ((LOG_STREAMS as readonly string[]).includes(stream)) streams.push(stream as LogStream);
    else {
      const suggestion = didYouMean(stream, [...LOG_STREAMS, "all"]);
      throw new UsageError(
        `Unknown stream "${stream}"${
          suggestion ? ` (did you mean "${suggestion}"?)` : ""
        }: expected ${LOG_STREAMS.join(", ")} or all`,
      );
    }
  }
  return {
    name,
    streams: [...new Set(streams)],
    lines: values.lines === undefined ? 20 : _integer("--lines", values.lines, 0, 1_000_000),
    follow: values.follow === true,
    json: values.json === true,
    endpoint,
    db,
  };
}

function _integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer between ${min} and ${max}, got "${text}"`);
  }
  return value;
}
