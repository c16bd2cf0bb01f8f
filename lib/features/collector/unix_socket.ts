/**
 * Listening on a unix socket path that one daemon owns: owner-only, a stale socket from a
 * dead daemon replaced, a live daemon never stolen from.
 *
 * tldrs removes whatever is at its socket path before binding, so starting a second
 * tldrs silently cuts the first one off from new clients. Here:
 *
 * - a socket at the path that accepts a connection belongs to a live daemon: refuse, and
 *   name its pid (read from /proc) when it can be found;
 * - a socket that refuses connections is stale (its daemon died without cleaning up):
 *   remove it and take the path;
 * - anything else at the path (a regular file, a folder) is left alone: refuse.
 *
 * The socket is bound under a private name beside the target, with umask 0177 so it is
 * owner-only (0600) from the first instant, then hard-linked to the target path: `link`
 * fails when the path exists, so two daemons starting at once cannot both take it. (It
 * also keeps Deno, which unlinks a unix listener's bound path when the listener closes,
 * from ever deleting the public path: only {@linkcode ExclusiveSocket.release} does, and
 * only while the path is still this daemon's socket.) The private name,
 * `.<name>.<pid>`, is what /proc/net/unix shows, which is how a second daemon finds the
 * first one's pid.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { describeCause, WrappError } from "../../core/errors.ts";
import { pathExists } from "../../core/path_exists.ts";
import { readCommandLine } from "../../pipeline/sources/command_line.ts";

/** A listener on a socket path this process owns. */
export interface ExclusiveSocket {
  /** The listener. Close it only through {@linkcode ExclusiveSocket.release}. */
  readonly listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  /** The public socket path. */
  readonly path: string;
  /** `true` when a stale socket from a dead daemon was removed to take the path. */
  readonly replacedStale: boolean;
  /** Remove the socket file (if it is still this process's) and close the listener. Idempotent. */
  release(): void;
}

/** Who holds a socket path, as found in /proc. */
export interface SocketOwner {
  /** The listening process. */
  pid: number;
  /** `true` when the socket was bound by a wrapp collector (its private name says so). */
  wrapp: boolean;
  /** Its command line, arguments joined by spaces; empty when unreadable. */
  command: string;
}

/** Longest unix socket path Linux accepts (`sun_path` is 108 bytes with the NUL). */
const _MAX_SOCKET_PATH_BYTES = 107;
const _ATTEMPTS = 5;

/**
 * Listen on `path`, owner-only, replacing a stale socket but never a live one or a
 * non-socket file. Throws a {@linkcode WrappError} saying why it cannot:
 * `Cannot listen on "/tmp/tldrs.socket": another wrapp serve (pid 1234) is running`.
 */
export async function listenExclusive(path: string): Promise<ExclusiveSocket> {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > _MAX_SOCKET_PATH_BYTES) {
    throw new WrappError(
      `Cannot listen on "${path}": the path is ${bytes} bytes long, and a unix socket path can have at most ${_MAX_SOCKET_PATH_BYTES}`,
    );
  }
  const privatePath = privateSocketPath(path, Deno.pid);
  // Binding under the private name needs a few more bytes; without them, bind the public
  // path directly (exclusive too: bind fails when the path exists).
  const bindPath = new TextEncoder().encode(privatePath).length <= _MAX_SOCKET_PATH_BYTES
    ? privatePath
    : path;
  let replacedStale = false;

  for (let attempt = 0; attempt < _ATTEMPTS; attempt++) {
    if (await _removeIfStale(path)) replacedStale = true;
    if (bindPath !== path) await Deno.remove(bindPath).catch(() => {});

    let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
    const umask = Deno.umask(0o177);
    try {
      listener = Deno.listen({ transport: "unix", path: bindPath });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse && bindPath === path) continue;
      throw new WrappError(`Cannot listen on "${path}": ${describeCause(error)}`, {
        cause: error,
      });
    } finally {
      Deno.umask(umask);
    }

    if (bindPath !== path) {
      try {
        await Deno.link(bindPath, path);
      } catch (error) {
        listener.close();
        await Deno.remove(bindPath).catch(() => {});
        if (error instanceof Deno.errors.AlreadyExists) continue; // Someone was faster: look again.
        throw new WrappError(`Cannot listen on "${path}": ${describeCause(error)}`, {
          cause: error,
        });
      }
      await Deno.remove(bindPath).catch(() => {});
    }

    const inode = (await Deno.lstat(path)).ino;
    let released = false;
    return {
      listener,
      path,
      replacedStale,
      release() {
        if (released) return;
        released = true;
        try {
          if (Deno.lstatSync(path).ino === inode) Deno.removeSync(path);
        } catch {
          // Already gone.
        }
        listener.close();
      },
    };
  }
  throw new WrappError(
    `Cannot listen on "${path}": the path kept being taken by another process while starting`,
  );
}

/** The name a collector binds before linking its socket to `path`: `.<name>.<pid>` beside it. */
export function privateSocketPath(path: string, pid: number): string {
  return join(dirname(path), `.${basename(path)}.${pid}`);
}

/**
 * `true` when a stale socket was removed from `path`; `false` when nothing is there.
 * Throws when a live daemon holds it or something other than a socket is there.
 */
async function _removeIfStale(path: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new WrappError(`Cannot listen on "${path}": ${describeCause(error)}`, { cause: error });
  }
  if (!info.isSocket) {
    throw new WrappError(
      `Cannot listen on "${path}": it exists and is not a socket; remove it or choose another --socket`,
    );
  }
  const state = await probeSocket(path);
  if (state === "gone") return false;
  if (state === "live") {
    const owner = await findSocketOwner(path);
    throw new WrappError(`Cannot listen on "${path}": ${describeOwner(owner)}`);
  }
  if (state === "denied") {
    throw new WrappError(
      `Cannot listen on "${path}": permission denied (the socket belongs to another user)`,
    );
  }
  // Stale. Remove it only if it is still the same file, so a daemon that started in the
  // meantime keeps its fresh socket.
  try {
    if ((await Deno.lstat(path)).ino === info.ino) await Deno.remove(path);
  } catch {
    // Gone already.
  }
  return true;
}

/**
 * What is listening at a socket path: `live` (a connection was accepted, or the backlog is
 * full), `stale` (connection refused: no listener), `gone` (no such file) or `denied`.
 */
export async function probeSocket(path: string): Promise<"live" | "stale" | "gone" | "denied"> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return "live";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return "stale";
    if (error instanceof Deno.errors.NotFound) return "gone";
    if (error instanceof Deno.errors.PermissionDenied) return "denied";
    return "live"; // EAGAIN and the like: someone is there, just busy.
  }
}

/** The sentence after `Cannot listen on "…": ` for a live socket. */
export function describeOwner(owner: SocketOwner | undefined): string {
  if (owner === undefined) return "another process is listening on it";
  if (owner.wrapp) return `another wrapp serve (pid ${owner.pid}) is running`;
  const command = owner.command.length > 60 ? `${owner.command.slice(0, 60)}…` : owner.command;
  return `another process (pid ${owner.pid}${
    command ? `, ${JSON.stringify(command)}` : ""
  }) is listening on it`;
}

/**
 * Find the process listening on the unix socket `path` through /proc: a wrapp collector
 * by its private bind name `.<name>.<pid>`, any other program (tldrs) by the socket inode
 * /proc/net/unix lists for the path, looked up among every process's open files.
 * `undefined` when /proc does not say (another user's process, no /proc).
 */
export async function findSocketOwner(path: string): Promise<SocketOwner | undefined> {
  let table: string;
  try {
    table = await Deno.readTextFile("/proc/net/unix");
  } catch {
    return undefined;
  }
  const privatePrefix = privateSocketPath(path, 0).slice(0, -1);
  const inodes = new Set<string>();
  for (const line of table.split("\n").slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const listening = (parseInt(fields[3], 16) & 0x10000) !== 0;
    if (!listening) continue;
    const bound = fields.slice(7).join(" ");
    if (bound.startsWith(privatePrefix) && /^\d+$/.test(bound.slice(privatePrefix.length))) {
      const pid = Number(bound.slice(privatePrefix.length));
      if (await pathExists(`/proc/${pid}`)) {
        return { pid, wrapp: true, command: await readCommandLine(pid) };
      }
    } else if (bound === path) {
      inodes.add(fields[6]);
    }
  }
  if (inodes.size === 0) return undefined;
  const pid = await _pidHoldingSocket(inodes);
  return pid === undefined ? undefined : { pid, wrapp: false, command: await readCommandLine(pid) };
}

async function _pidHoldingSocket(inodes: ReadonlySet<string>): Promise<number | undefined> {
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  try {
    for await (const proc of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(proc.name)) continue;
      try {
        for await (const fd of Deno.readDir(`/proc/${proc.name}/fd`)) {
          const target = await Deno.readLink(`/proc/${proc.name}/fd/${fd.name}`).catch(() => "");
          if (wanted.has(target)) return Number(proc.name);
        }
      } catch {
        // Another user's process, or it exited.
      }
    }
  } catch {
    // No /proc.
  }
  return undefined;
}
