/**
 * `wrapp run <svc.toml>`: load the config and supervise the service.
 *
 * The CLI imports this module only for `run`, and it imports nothing a running service
 * does not need (no TUI, memprof page or recorder): what it reaches statically is what a
 * supervised service pays in memory and start-up time on the robot.
 * `tests/run_imports_test.ts` holds that line.
 *
 * @module
 */

import type { DebugLog } from "../core/debug.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { Supervisor } from "../features/run/supervisor.ts";
import { serveStatus } from "../features/run/status_socket.ts";

/** Supervise the service `file` describes; resolves to wrapp's exit code. */
export async function runCommand(file: string, options: { debug: DebugLog }): Promise<number> {
  const { debug } = options;
  const config = await loadConfig(file);
  debug(`config ${config.file}: ${JSON.stringify({ ...config, redis: undefined })}`);
  const supervisor = new Supervisor(config, { debug });
  const result = await serveStatus([supervisor], () => supervisor.run(), { debug });
  debug(`exit code ${result.exitCode}`);
  return result.exitCode;
}
