/**
 * `wrapp check <svc.toml>`: validate a config and print the effective one.
 *
 * @module
 */

import type { DebugLog } from "../core/debug.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { formatConfig } from "../core/config/format_config.ts";

/** Validate `file` and print it with every default filled in; exit code 0 (errors throw). */
export async function checkCommand(
  file: string,
  options: { debug: DebugLog; print: (text: string) => void },
): Promise<number> {
  const config = await loadConfig(file);
  options.debug(`config ${config.file} is valid`);
  options.print(`# ${file}: valid\n${formatConfig(config)}`);
  return 0;
}
