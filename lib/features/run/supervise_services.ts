/**
 * Supervise several services from one wrapp (`wrapp up DIR`, `wrapp run a.toml b.toml`):
 * a lone service exactly as `wrapp run svc.toml`, more as one {@linkcode ServiceGroup}.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import { ServiceGroup } from "./service_group.ts";
import { serveStatus } from "./status_socket.ts";
import { loadConfigs } from "./config_set.ts";
import { configDebugLine, superviseService } from "./supervise_service.ts";

/** Supervise every service in `paths` until all have ended; resolves to wrapp's exit code. */
export async function superviseConfigs(paths: readonly string[], debug: DebugLog): Promise<number> {
  const configs = await loadConfigs(paths);
  for (const config of configs) debug(configDebugLine(config));
  // One service: exactly "wrapp run svc.toml".
  if (configs.length === 1) return await superviseService(configs[0], debug);
  const group = new ServiceGroup(configs, { debug });
  const result = await serveStatus(group.supervisors, () => group.run(), { debug });
  debug(
    `exit code ${result.exitCode} (${
      result.ends.map((e) => `${e.name} ${e.exitCode}`).join(", ")
    })`,
  );
  return result.exitCode;
}
