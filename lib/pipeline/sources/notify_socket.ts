/**
 * The socket a service's `sd_notify()` writes to: a unix datagram socket wrapp binds and
 * names in the service's `NOTIFY_SOCKET`, as systemd does for `Type=notify` units.
 *
 * Every datagram that arrives is the service's, whichever process of it sent it (systemd's
 * `NotifyAccess=all`): the socket is the service's alone (mode 0600, owned by the
 * service's user), so a `systemd-notify` run from a shell script counts too. Descriptors
 * sent along (`BARRIER=1`, `FDSTORE=1`) are not kept: the kernel closes them once the
 * datagram is read, which is what a `BARRIER=1` sender waits for.
 *
 * Deno binds unix datagram sockets through `Deno.listenDatagram` with transport
 * `"unixpacket"` (a `SOCK_DGRAM` socket despite the name), an unstable API: deno.json
 * turns on the `net` feature, for `deno run`, `deno test` and `deno compile` alike.
 *
 * @module
 */

import { dirname } from "../../core/posix_path.ts";
import { describeCause, WrappError } from "../../core/errors.ts";
import { type NotifyMessage, parseNotifyMessage } from "./notify_message.ts";

/** Options for {@linkcode NotifySocket.open}. */
export interface NotifySocketOptions {
  /** Called with every datagram, parsed. */
  onMessage: (message: NotifyMessage, text: string) => void;
  /** Give the socket to this user and group (the service's, when wrapp switches user). Default: wrapp's. */
  owner?: { uid: number; gid: number };
}

/** The longest path a unix socket address holds (`sun_path` is 108 bytes, NUL included). */
export const MAX_SOCKET_PATH_BYTES = 107;

type _DatagramConn = {
  receive(buffer?: Uint8Array): Promise<[Uint8Array, unknown]>;
  close(): void;
};
type _ListenDatagram = (options: { transport: "unixpacket"; path: string }) => _DatagramConn;

/** A bound notify socket, read until {@linkcode NotifySocket.close}. */
export class NotifySocket {
  /** Absolute path of the socket: the value of `NOTIFY_SOCKET`. */
  readonly path: string;
  readonly #conn: _DatagramConn;
  readonly #reading: Promise<void>;
  #closed = false;
  #received = 0;

  private constructor(path: string, conn: _DatagramConn, options: NotifySocketOptions) {
    this.path = path;
    this.#conn = conn;
    this.#reading = this.#read(options.onMessage);
  }

  /**
   * Bind a datagram socket at `path` (its folder is created; a socket left there by an
   * earlier wrapp is replaced) and start reading it. Throws {@linkcode WrappError}
   * when it cannot: `Cannot create the notify socket "/run/wrapp/svc/notify.sock": permission denied`.
   */
  static async open(path: string, options: NotifySocketOptions): Promise<NotifySocket> {
    const fail = (why: string, cause?: unknown) =>
      new WrappError(`Cannot create the notify socket "${path}": ${why}`, { cause });
    if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH_BYTES) {
      throw fail(`the path is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a socket may have`);
    }
    const listen = (Deno as unknown as { listenDatagram?: _ListenDatagram }).listenDatagram;
    if (typeof listen !== "function") {
      throw fail(`this Deno lacks Deno.listenDatagram (run with --unstable-net)`);
    }
    try {
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
      const existing = await Deno.lstat(path).catch(() => undefined);
      if (existing?.isSocket) await Deno.remove(path);
      else if (existing) throw fail("a file that is not a socket is in the way");
    } catch (error) {
      if (error instanceof WrappError) throw error;
      throw fail(describeCause(error), error);
    }
    let conn: _DatagramConn;
    try {
      conn = listen.call(Deno, { transport: "unixpacket", path });
    } catch (error) {
      throw fail(describeCause(error), error);
    }
    try {
      // Only the service (and root) may tell wrapp it is alive.
      await Deno.chmod(path, 0o600);
      if (options.owner) await Deno.chown(path, options.owner.uid, options.owner.gid);
    } catch (error) {
      conn.close();
      await Deno.remove(path).catch(() => {});
      throw fail(describeCause(error), error);
    }
    return new NotifySocket(path, conn, options);
  }

  /** Datagrams read so far. */
  get received(): number {
    return this.#received;
  }

  /** Stop reading and remove the socket file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
    await this.#reading;
    await Deno.remove(this.path).catch(() => {});
  }

  async #read(onMessage: NotifySocketOptions["onMessage"]): Promise<void> {
    const decoder = new TextDecoder();
    while (!this.#closed) {
      let data: Uint8Array;
      try {
        [data] = await this.#conn.receive();
      } catch {
        return; // closed
      }
      this.#received++;
      const text = decoder.decode(data);
      onMessage(parseNotifyMessage(text), text);
    }
  }
}
