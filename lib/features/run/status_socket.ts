/**
 * The status socket: every wrapp listens on `<runtime dir>/<pid>.sock` (see
 * ./runtime_dir.ts) and answers a one-line JSON query, `{"query":"ps"}`, with one JSON
 * line, a {@linkcode WrappSnapshot}; `wrapp ps` asks each socket it finds.
 *
 * It costs an idle wrapp nothing: the listener waits in accept(2), no timer runs until a
 * client connects, and the answer is made from counters the supervisor keeps anyway.
 * The socket is owner-only (0600); it is removed at exit, and a socket left by a
 * killed wrapp is removed by `wrapp ps` or by the next wrapp given the same pid.
 *
 * @module
 */

import { describeCause, WrappError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";
import { runtimeDir, statusSocketPath } from "./runtime_dir.ts";
import type { ServiceSnapshot, WrappSnapshot } from "./service_snapshot.ts";
import { VERSION } from "../../core/version.ts";

/** The longest query line read, bytes. */
const _MAX_QUERY_BYTES = 4096;
/** How long a client may take to send its query, ms. */
const _QUERY_TIMEOUT_MS = 2000;
/** Longest unix socket path Linux accepts (`sun_path` is 108 bytes with the NUL). */
const _MAX_SOCKET_PATH_BYTES = 107;

/** A listening status socket. */
export class StatusSocket {
  readonly #listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly #snapshot: () => WrappSnapshot;
  readonly #debug: DebugLog;
  readonly #inode: number;
  readonly #serving: Promise<void>;
  readonly #connections = new Set<Promise<void>>();
  #closed = false;
  /** The socket's path. */
  readonly path: string;

  private constructor(
    listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    path: string,
    inode: number,
    snapshot: () => WrappSnapshot,
    debug: DebugLog,
  ) {
    this.#listener = listener;
    this.path = path;
    this.#inode = inode;
    this.#snapshot = snapshot;
    this.#debug = debug;
    this.#serving = this.#serve();
  }

  /**
   * Listen on `<dir>/<pid>.sock`, creating `dir` (0700; `/run/wrapp` of root 0755, so
   * other users' `wrapp ps` can say it is there). Throws a {@linkcode WrappError}:
   * `Cannot listen on "/run/wrapp/4242.sock": permission denied`.
   */
  static open(
    dir: string,
    snapshot: () => WrappSnapshot,
    options: { debug?: DebugLog } = {},
  ): StatusSocket {
    const path = statusSocketPath(dir, Deno.pid);
    const fail = (error: unknown) =>
      new WrappError(`Cannot listen on "${path}": ${describeCause(error)}`, { cause: error });
    const bytes = new TextEncoder().encode(path).length;
    if (bytes > _MAX_SOCKET_PATH_BYTES) {
      throw new WrappError(
        `Cannot listen on "${path}": the path is ${bytes} bytes long, and a unix socket path can have at most ${_MAX_SOCKET_PATH_BYTES}`,
      );
    }
    try {
      _prepareDir(dir);
      // Our pid is in the name: what is there was left by a dead wrapp that had it.
      try {
        Deno.removeSync(path);
      } catch { /* nothing left there */ }
    } catch (error) {
      throw error instanceof WrappError ? error : fail(error);
    }
    let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
    // Owner-only from the first instant.
    const umask = Deno.umask(0o177);
    try {
      listener = Deno.listen({ transport: "unix", path });
    } catch (error) {
      throw fail(error);
    } finally {
      Deno.umask(umask);
    }
    const inode = Deno.lstatSync(path).ino ?? 0;
    return new StatusSocket(listener, path, inode, snapshot, options.debug ?? silentDebug);
  }

  /** Stop listening and remove the socket (if it is still this one). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if ((await Deno.lstat(this.path)).ino === this.#inode) await Deno.remove(this.path);
    } catch {
      // Already gone.
    }
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#serving;
    await Promise.all(this.#connections);
  }

  async #serve(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const done = this.#answer(conn).finally(() => this.#connections.delete(done));
        this.#connections.add(done);
      }
    } catch (error) {
      if (!this.#closed) this.#debug(`status socket ${this.path}: ${describeCause(error)}`);
    }
  }

  async #answer(conn: Deno.UnixConn): Promise<void> {
    // The only timer: while a client is connected, for one that never sends its query.
    const timer = setTimeout(() => conn.close(), _QUERY_TIMEOUT_MS);
    try {
      const line = await _readLine(conn);
      let reply: unknown;
      try {
        const query = JSON.parse(line) as { query?: unknown };
        reply = query?.query === "ps"
          ? this.#snapshot()
          : { error: `Unknown query ${JSON.stringify(query?.query ?? line)}: expected "ps"` };
      } catch {
        reply = { error: `Invalid query: expected one line of JSON such as {"query":"ps"}` };
      }
      const bytes = new TextEncoder().encode(JSON.stringify(reply) + "\n");
      for (let written = 0; written < bytes.length;) {
        written += await conn.write(bytes.subarray(written));
      }
    } catch (error) {
      this.#debug(`status socket: a client went away: ${describeCause(error)}`);
    } finally {
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // Closed by the timer.
      }
    }
  }
}

/**
 * Open this wrapp's status socket in the runtime folder, or, when that fails, say why in
 * the debug log and go on without it: `wrapp ps` will not list this wrapp, but the
 * service runs all the same.
 */
export function openStatusSocket(
  snapshot: () => WrappSnapshot,
  options: { env?: (name: string) => string | undefined; debug?: DebugLog } = {},
): StatusSocket | undefined {
  const debug = options.debug ?? silentDebug;
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const dir = runtimeDir({ env, uid: Deno.uid() });
  try {
    const socket = StatusSocket.open(dir, snapshot, { debug });
    debug(`status socket ${socket.path} ("wrapp ps" reads it)`);
    return socket;
  } catch (error) {
    debug(`${(error as Error).message}: "wrapp ps" will not list this wrapp`);
    return undefined;
  }
}

/**
 * Create the runtime folder; a shared one (`/tmp/wrapp-<uid>`) must be ours and private.
 * Synchronous, as the socket's other calls at start-up: each async one would wait for a round
 * trip through Deno's thread pool.
 */
function _prepareDir(dir: string): void {
  const uid = Deno.uid();
  Deno.mkdirSync(dir, { recursive: true, mode: uid === 0 ? 0o755 : 0o700 });
  const info = Deno.lstatSync(dir);
  if (!info.isDirectory) throw new WrappError(`Cannot use "${dir}": it is not a folder`);
  if (uid !== null && info.uid !== uid) {
    throw new WrappError(`Cannot use "${dir}": it belongs to uid ${info.uid}, not to uid ${uid}`);
  }
}

/** The first line the client sends (without its newline), at most 4 KiB. */
async function _readLine(conn: Deno.UnixConn): Promise<string> {
  const buffer = new Uint8Array(_MAX_QUERY_BYTES);
  let length = 0;
  while (length < buffer.length) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) break;
    const newline = buffer.subarray(length, length + n).indexOf(10);
    length += n;
    if (newline !== -1) break;
  }
  const text = new TextDecoder().decode(buffer.subarray(0, length));
  const end = text.indexOf("\n");
  return end === -1 ? text : text.slice(0, end);
}

/**
 * Run `run` (the supervision of `supervisors`) while this wrapp's status socket answers
 * `wrapp ps` about them; the socket is removed when `run` settles.
 */
export async function serveStatus<T>(
  supervisors: readonly { snapshot(): ServiceSnapshot }[],
  run: () => Promise<T>,
  options: { env?: (name: string) => string | undefined; debug?: DebugLog } = {},
): Promise<T> {
  const startedAt = Date.now();
  const socket = openStatusSocket(() => ({
    wrapp: { pid: Deno.pid, version: VERSION, startedAt },
    time: Date.now(),
    services: supervisors.map((supervisor) => supervisor.snapshot()),
  }), options);
  try {
    return await run();
  } finally {
    await socket?.close();
  }
}
