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
import { configDebugLine, superviseService } from "../features/run/supervise_service.ts";

/** Supervise the service `file` describes; resolves to wrapp's exit code. */
export async function runCommand(file: string, options: { debug: DebugLog }): Promise<number> {
  const config = await loadConfig(file);
  options.debug(configDebugLine(config));
  return await superviseService(config, options.debug);
}
