/**
 * Where wrapp keeps a service's state (local traces, the Redis spool): one rule for every
 * command, like systemd's StateDirectory and the XDG base directories.
 *
 * @module
 */

import { isAbsolute, join } from "../posix_path.ts";

/**
 * `/var/lib/wrapp/<name>` for root; else `$XDG_STATE_HOME/wrapp/<name>`, falling back to
 * `$HOME/.local/state/wrapp/<name>`; `undefined` when neither variable is an absolute path.
 */
export function defaultStateDir(
  name: string,
  options: { env: (name: string) => string | undefined; uid: number | null },
): string | undefined {
  if (options.uid === 0) return join("/var/lib/wrapp", name);
  const stateHome = options.env("XDG_STATE_HOME");
  if (stateHome && isAbsolute(stateHome)) return join(stateHome, "wrapp", name);
  const home = options.env("HOME");
  if (home && isAbsolute(home)) return join(home, ".local/state/wrapp", name);
  return undefined;
}

/**
 * Where a service's sockets go, like systemd's RuntimeDirectory: `/run/wrapp/<name>` for
 * root; else `$XDG_RUNTIME_DIR/wrapp/<name>`; else its state folder
 * ({@linkcode defaultStateDir}).
 */
export function defaultRuntimeDir(
  name: string,
  options: { env: (name: string) => string | undefined; uid: number | null },
): string | undefined {
  if (options.uid === 0) return join("/run/wrapp", name);
  const runtime = options.env("XDG_RUNTIME_DIR");
  if (runtime && isAbsolute(runtime)) return join(runtime, "wrapp", name);
  return defaultStateDir(name, options);
}
