/**
 * `[watchdog]` after its keys are checked: where the notify socket goes.
 *
 * @module
 */

import { join, resolve } from "../posix_path.ts";
import type { WatchdogConfig } from "./config.ts";
import type { SectionValues } from "./check_sections.ts";
import type { ConfigSource } from "./config_source.ts";
import { shortenForMessage } from "./describe_field.ts";
import { defaultRuntimeDir } from "./state_dir.ts";

// A unix socket's path: sun_path is 108 bytes with its NUL.
const _SOCKET_PATH_MAX = 107;

/** `[watchdog]` after its keys are checked: the socket's path resolved, and short enough for a socket. */
export function watchdogSection(
  source: ConfigSource,
  raw: SectionValues,
  streamName: string,
): WatchdogConfig {
  let socket: string;
  if (raw.socket !== undefined) socket = resolve(source.folder, raw.socket as string);
  else {
    const uid = source.uid;
    const dir = defaultRuntimeDir(streamName, { env: (name) => source.env(name), uid });
    if (dir === undefined) {
      throw source.error(
        `cannot choose a folder for the notify socket: set "socket" in [watchdog], or $XDG_RUNTIME_DIR or $HOME`,
        ["watchdog"],
      );
    }
    socket = join(dir, "notify.sock");
  }
  const bytes = new TextEncoder().encode(socket).length;
  if (bytes > _SOCKET_PATH_MAX) {
    throw source.error(
      `the notify socket "${
        shortenForMessage(socket)
      }" is ${bytes} bytes long, more than the ${_SOCKET_PATH_MAX} a unix socket's path may have; set a shorter "socket" in [watchdog]`,
      ["watchdog", "socket"],
      ["watchdog"],
    );
  }
  return {
    enabled: raw.enabled as boolean,
    ...(raw.timeoutMs === undefined ? {} : { timeoutMs: raw.timeoutMs as number }),
    ...(raw.silenceMs === undefined ? {} : { silenceMs: raw.silenceMs as number }),
    socket,
  };
}
