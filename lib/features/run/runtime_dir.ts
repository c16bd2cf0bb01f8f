/**
 * Where each wrapp puts its status socket, and where `wrapp ps` looks for them: one
 * folder per user, like systemd's RuntimeDirectory and the XDG runtime directory.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "../../core/posix_path.ts";

/** Environment variable that names the runtime folder, for wrapp and `wrapp ps` alike. */
export const RUNTIME_DIR_ENV = "WRAPP_RUNTIME_DIR";

/** The runtime folder of root's wrapps. */
export const ROOT_RUNTIME_DIR = "/run/wrapp";

/** What {@linkcode runtimeDir} reads from its environment. */
export interface RuntimeDirContext {
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** The user's id (`Deno.uid()`); `null` where there is none. */
  uid: number | null;
  /** Whether a folder exists. Default: `Deno.statSync`. */
  isDirectory?: (path: string) => boolean;
}

/**
 * The runtime folder of this user's wrapps: `$WRAPP_RUNTIME_DIR` when set; `/run/wrapp`
 * for root; else `$XDG_RUNTIME_DIR/wrapp`; else `/run/user/<uid>/wrapp` when that user
 * folder exists (a service under systemd's `User=` has no `$XDG_RUNTIME_DIR`, its
 * owner's shell does); else `/tmp/wrapp-<uid>`.
 */
export function runtimeDir(context: RuntimeDirContext): string {
  const explicit = context.env(RUNTIME_DIR_ENV);
  if (explicit) return resolve(explicit);
  if (context.uid === 0) return ROOT_RUNTIME_DIR;
  const xdg = context.env("XDG_RUNTIME_DIR");
  if (xdg && isAbsolute(xdg)) return join(xdg, "wrapp");
  const uid = context.uid ?? "unknown";
  const isDirectory = context.isDirectory ?? _isDirectory;
  if (context.uid !== null && isDirectory(`/run/user/${uid}`)) {
    return join(`/run/user/${uid}`, "wrapp");
  }
  return `/tmp/wrapp-${uid}`;
}

/** The socket of wrapp process `pid` in `dir`: `<dir>/<pid>.sock`. */
export function statusSocketPath(dir: string, pid: number): string {
  return join(dir, `${pid}.sock`);
}

/** The pid in a socket file name made by {@linkcode statusSocketPath}, or `undefined`. */
export function socketPid(name: string): number | undefined {
  const match = /^([1-9]\d{0,9})\.sock$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function _isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
