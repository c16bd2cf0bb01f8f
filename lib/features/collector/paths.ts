/**
 * Where the collector listens and stores traces when no flag says otherwise — the same
 * places as tldrs, so its clients find wrapp without being told.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { UsageError } from "../../core/errors.ts";

/** Environment lookup: `Deno.env.get` or a test double. */
export type EnvLookup = (name: string) => string | undefined;

/** Environment variable the OCaml `trace` library's tldrs backend reads the socket path from. */
export const SOCKET_ENV = "TRACE_TEF_TLDR_SOCKET";

/** File name of the socket inside the temporary folder, as tldrs names it. */
export const SOCKET_NAME = "tldrs.socket";

/**
 * The socket path: `$TRACE_TEF_TLDR_SOCKET` when set (so a daemon and the clients started
 * from the same environment agree), else `$TMPDIR/tldrs.socket`, else
 * `/tmp/tldrs.socket` — tldrs's own default.
 */
export function defaultSocketPath(env: EnvLookup): string {
  const explicit = env(SOCKET_ENV);
  if (explicit) return explicit;
  const tmp = env("TMPDIR");
  return join(tmp ? tmp : "/tmp", SOCKET_NAME);
}

/**
 * The trace folder: `$XDG_DATA_HOME/tldrs`, else `~/.local/share/tldrs` (the XDG base
 * directory default, which tldrs uses too). A relative `$XDG_DATA_HOME` is ignored, as the
 * XDG specification requires. Throws a {@linkcode UsageError} when neither it nor `$HOME`
 * is set.
 */
export function defaultTraceDir(env: EnvLookup): string {
  const xdg = env("XDG_DATA_HOME");
  if (xdg && isAbsolute(xdg)) return join(xdg, "tldrs");
  const home = env("HOME");
  if (home) return join(home, ".local", "share", "tldrs");
  throw new UsageError(
    "Cannot find the trace folder: neither XDG_DATA_HOME nor HOME is set; pass --dir DIR",
  );
}
