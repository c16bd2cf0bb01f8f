/**
 * Helpers shared by the config tests: parse options that touch neither the filesystem nor
 * the real environment, the message of an expected ConfigError, a temporary folder.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { parseConfig, type ParseConfigOptions } from "./load_config.ts";

/** An environment lookup that knows only `vars`. */
export function fakeEnv(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => vars[name];
}

/** Parse options for a config named `file` in `/srv/robot`, read by uid 1000 with HOME /home/ada. */
export function offline(file: string): ParseConfigOptions {
  return {
    file,
    cwd: "/srv/robot",
    checkExecutable: false,
    env: fakeEnv({ HOME: "/home/ada", PATH: "/usr/bin:/bin" }),
    uid: 1000,
  };
}

/** The message of the ConfigError (exit code 2) that parsing `text` with `options` throws. */
export function configErrorFrom(text: string, options: ParseConfigOptions): string {
  try {
    parseConfig(text, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail("expected a ConfigError, but the config was accepted");
}

/** Parse options for `svc.toml` that touch neither the filesystem nor the real environment. */
export const OFFLINE: ParseConfigOptions = offline("svc.toml");

/** The message of the ConfigError that parsing `text` as {@linkcode OFFLINE} (with `options`) throws. */
export function errorFrom(text: string, options: Partial<ParseConfigOptions> = {}): string {
  return configErrorFrom(text, { ...OFFLINE, ...options });
}

/** Write a shell script that prints "hi" at `path`, with `mode`. */
export async function writeScript(path: string, mode = 0o755): Promise<void> {
  await Deno.writeTextFile(path, "#!/bin/sh\necho hi\n");
  await Deno.chmod(path, mode);
}

/** A temporary folder (its real path), removed when disposed. */
export async function tempDir(
  prefix = "wrapp_config_",
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix }));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
