/**
 * The configs of `wrapp up DIR`, `wrapp run a.toml b.toml …` and `wrapp check DIR`: the
 * files a folder holds, each loaded and validated, and checked to run together. Nothing
 * starts unless every one is valid.
 *
 * @module
 */

import { join } from "../../core/posix_path.ts";
import type { Config } from "../../core/config/config.ts";
import { loadConfig } from "../../core/config/load_config.ts";
import { ConfigError, describeCause, WrappError } from "../../core/errors.ts";
import { checkGroupConflicts } from "./service_group.ts";

/** The config files named by `paths`: files as given, folders as their `*.toml` and `*.json` files in name order. */
export async function configFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      throw new ConfigError(`Cannot read config "${path}": ${describeCause(error)}`, {
        cause: error,
      });
    }
    if (!info.isDirectory) {
      files.push(path);
      continue;
    }
    const found: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (!/\.(toml|json)$/.test(entry.name) || entry.name.startsWith(".")) continue;
      const file = join(path, entry.name);
      // A symlink counts as what it points to (a folder named x.toml does not).
      if (entry.isFile || (entry.isSymlink && (await _isFile(file)))) found.push(file);
    }
    if (found.length === 0) throw new ConfigError(`No *.toml or *.json config in "${path}"`);
    files.push(...found.sort());
  }
  return files;
}

/**
 * Load every config in `paths` (see {@linkcode configFiles}) and check they can run
 * together. Throws one {@linkcode ConfigError} naming every bad file.
 */
export async function loadConfigs(paths: readonly string[]): Promise<Config[]> {
  const { configs, error } = await validateConfigSet(paths, ", nothing started");
  if (error) throw error;
  return configs;
}

/**
 * Load every config in `paths`: the valid ones, and the {@linkcode ConfigError} naming
 * every bad file (its message ending in `outcome`) or, when all are valid, the conflicts
 * between them. Throws only when `paths` themselves cannot be read.
 */
export async function validateConfigSet(
  paths: readonly string[],
  outcome = "",
): Promise<{ configs: Config[]; error?: ConfigError }> {
  const files = await configFiles(paths);
  const { configs, problems } = await _loadAll(files);
  if (problems.length > 0) return { configs, error: _invalid(problems, files.length, outcome) };
  try {
    checkGroupConflicts(configs);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { configs, error };
  }
  return { configs };
}

async function _loadAll(
  files: readonly string[],
): Promise<{ configs: Config[]; problems: string[] }> {
  const configs: Config[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      configs.push(await loadConfig(file));
    } catch (error) {
      if (!(error instanceof WrappError)) throw error;
      problems.push(error.message);
    }
  }
  return { configs, problems };
}

function _invalid(problems: readonly string[], total: number, outcome: string): ConfigError {
  if (total === 1) return new ConfigError(problems[0]);
  return new ConfigError(
    `${problems.length} of ${total} configs are invalid${outcome}:\n  ${problems.join("\n  ")}`,
  );
}

async function _isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
