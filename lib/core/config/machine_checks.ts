/**
 * What `wrapp check` and `wrapp run` check on the machine, beyond the config's text: the
 * executable exists and may be run, `cwd` is a folder, the folders wrapp writes can be
 * made and written, the user and group exist.
 *
 * @module
 */

import { dirname, resolve } from "../posix_path.ts";
import { ConfigError, describeCause } from "../errors.ts";
import { DEFAULT_PATH, findExecutableSync, isExecutableFileInfo } from "../find_executable.ts";
import { lookupGroupId, lookupUser } from "../run_as_user.ts";
import type { Config } from "./config.ts";
import type { ConfigSource } from "./config_source.ts";
import { shortenForMessage } from "./describe_field.ts";

// Linux's limits on a file name and a whole path, in bytes (NAME_MAX, PATH_MAX - 1).
const _NAME_MAX = 255;
const _PATH_MAX = 4095;

/** The absolute path to run; with `check`, it must exist and be executable. */
export function resolveExecutable(
  source: ConfigSource,
  executable: string,
  envPath: string | undefined,
  check: boolean,
): string {
  const at = ["app", "executable"];
  if (!executable.includes("/")) {
    if (!check) return executable;
    const path = envPath ?? source.env("PATH") ?? DEFAULT_PATH;
    const found = findExecutableSync(executable, { path, relativeFolders: "skip" });
    if (found !== undefined) return found;
    throw source.error(`executable "${executable}" was not found in PATH`, at);
  }
  const resolved = resolve(source.folder, executable);
  if (!check) return resolved;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(resolved);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw source.error(`executable "${executable}" does not exist`, at);
    }
    throw source.error(
      `executable "${executable}" cannot be checked: ${describeCause(error)}`,
      at,
    );
  }
  if (!isExecutableFileInfo(info)) {
    throw source.error(`executable "${executable}" is not executable`, at);
  }
  return resolved;
}

/**
 * `[app] user` and `group` exist, looked up as `wrapp run` does
 * ({@linkcode lookupUser}, {@linkcode lookupGroupId}). Whether wrapp may switch to them
 * (it needs root) is not checked: `check` may run as anyone.
 */
export async function checkAccounts(source: ConfigSource, config: Config): Promise<void> {
  const { user, group } = config.app;
  if (user !== undefined && await lookupUser(user) === undefined) {
    throw source.error(`user "${user}" in [app] does not exist on this machine`, ["app", "user"]);
  }
  if (group !== undefined && await lookupGroupId(group) === undefined) {
    throw source.error(`group "${group}" in [app] does not exist on this machine`, [
      "app",
      "group",
    ]);
  }
}

/**
 * `wrapp run` can create and write `path` (which may not exist yet): every folder name
 * in it fits the 255-byte limit, the path the 4095-byte one, the nearest existing
 * folder on the way is one, and a file can be created in it (a probe, removed at once:
 * only trying tells a read-only mount or an ACL apart).
 */
export function checkFolder(
  source: ConfigSource,
  path: string,
  what: string,
  streamName: string,
  options: { key: string[]; set: boolean },
): void {
  // Written by the user: point at the key; computed from the stream name: at that.
  const at = options.set ? [options.key] : [["app", "stream_name"], ["app", "executable"]];
  const fix = options.set
    ? `set a shorter "${options.key[1]}" in [${options.key[0]}]`
    : `set a shorter "stream_name" in [app], or "${options.key[1]}" in [${options.key[0]}]`;
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  for (const part of path.split("/")) {
    if (bytes(part) <= _NAME_MAX) continue;
    const whose = !options.set && part === streamName ? " (the stream name)" : "";
    throw source.error(
      `${what} "${shortenForMessage(path)}" cannot be created: its folder name "${
        shortenForMessage(part)
      }"${whose} is ${bytes(part)} bytes, more than the ${_NAME_MAX} a name may have; ${fix}`,
      ...at,
    );
  }
  if (bytes(path) > _PATH_MAX) {
    throw source.error(
      `${what} "${shortenForMessage(path)}" cannot be created: its path is ${
        bytes(path)
      } bytes, more than ${_PATH_MAX}; ${fix}`,
      ...at,
    );
  }
  let existing = path;
  while (true) {
    try {
      if (!Deno.statSync(existing).isDirectory) {
        throw source.error(
          `${what} "${path}" cannot be created: "${existing}" is not a folder`,
          ...at,
        );
      }
      break;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      // ENOTDIR: a file on the way, reported when the walk reaches it.
      const missing = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (!missing || existing === "/") {
        throw source.error(
          `${what} "${path}" cannot be checked: ${describeCause(error)}`,
          ...at,
        );
      }
      existing = dirname(existing);
    }
  }
  try {
    Deno.removeSync(Deno.makeTempFileSync({ dir: existing, prefix: ".wrapp-check-" }));
  } catch (error) {
    const where = existing === path ? "" : ` (it would be created in "${existing}")`;
    throw source.error(
      `${what} "${path}" is not writable${where}: ${describeCause(error)}`,
      ...at,
    );
  }
}

/** `cwd` (written as `written`) is an existing directory. */
export function checkCwd(source: ConfigSource, written: string, cwd: string): void {
  const at = ["app", "cwd"];
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(cwd);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw source.error(`cwd "${written}" does not exist`, at);
    }
    throw source.error(`cwd "${written}" cannot be checked: ${describeCause(error)}`, at);
  }
  if (!info.isDirectory) throw source.error(`cwd "${written}" is not a directory`, at);
}
