/**
 * Supervise one service, as `wrapp run svc.toml` does, answering `wrapp ps` on its status
 * socket. What this imports statically is what `wrapp run` loads at start
 * (`tests/run_imports_test.ts`).
 *
 * @module
 */

import type { Config } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import { Supervisor } from "./supervisor.ts";
import { serveStatus } from "./status_socket.ts";

/** The debug line naming a config and its effective settings (the Redis password left out). */
export function configDebugLine(config: Config): string {
  return `config ${config.file}: ${JSON.stringify({ ...config, redis: undefined })}`;
}

/** Supervise the service `config` describes until it has ended; resolves to wrapp's exit code. */
export async function superviseService(config: Config, debug: DebugLog): Promise<number> {
  const supervisor = new Supervisor(config, { debug });
  const result = await serveStatus([supervisor], () => supervisor.run(), { debug });
  debug(`exit code ${result.exitCode}`);
  return result.exitCode;
}
