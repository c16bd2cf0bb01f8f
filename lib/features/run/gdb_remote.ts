/**
 * The little of GDB's remote serial protocol wrapp speaks itself, as gdbserver's first
 * client, to take a held service through its `execve` (see `service_debug.ts`): packets
 * (`$data#checksum`, acknowledged with `+`), requests, and stop replies.
 *
 * @module
 */

/** What a stop reply says (`T05…`, `S11`, `W00`, `X09`). */
export type StopReply =
  /** It stopped with GDB signal number `signal`; `exec` is set for an exec event (the new program's path). */
  | { kind: "stopped"; signal: number; exec?: string }
  /** It exited with `code`. */
  | { kind: "exited"; code: number }
  /** It was killed by GDB signal number `signal`. */
  | { kind: "killed"; signal: number };

/** GDB's own number for SIGSTOP in stop replies and `C` packets (gdb/signals.def). */
export const GDB_SIGNAL_STOP = 0x11;
/** GDB's own number for SIGCONT. */
export const GDB_SIGNAL_CONT = 0x13;
/** GDB's own number for SIGTRAP. */
export const GDB_SIGNAL_TRAP = 0x05;

/** The two hex digits ending a packet: the sum of its bytes modulo 256. */
export function checksum(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, "0");
}

/** A packet on the wire: `$data#xx`. `data` must hold no `$`, `#`, `}` or `*`. */
export function encodePacket(data: string): string {
  if (/[$#}*]/.test(data)) throw new RangeError(`Cannot send "${data}": it needs escaping`);
  return `$${data}#${checksum(data)}`;
}

/**
 * Read a stop reply; `undefined` when `reply` is none (`OK`, `E01`, an empty reply…).
 * GDB signal numbers are kept as they are: they are not the host's.
 */
export function parseStopReply(reply: string): StopReply | undefined {
  // gdbserver writes exit codes with as few digits as they need ("W3;process:1f").
  const match = /^([TS])([0-9a-fA-F]{2})(.*)$/s.exec(reply) ??
    /^([WX])([0-9a-fA-F]{1,2})(;.*)?$/s.exec(reply);
  if (!match) return undefined;
  const [, letter, hex, rest = ""] = match;
  const value = parseInt(hex, 16);
  if (letter === "W") return { kind: "exited", code: value };
  if (letter === "X") return { kind: "killed", signal: value };
  const exec = letter === "T" ? /(?:^|;)exec:([0-9a-fA-F]*)(?:;|$)/.exec(rest) : null;
  return exec
    ? { kind: "stopped", signal: value, exec: _unhex(exec[1]) }
    : { kind: "stopped", signal: value };
}

/**
 * A client of a GDB remote stub over a byte stream (gdbserver's stdin and stdout with
 * `gdbserver --attach - PID`). One request at a time.
 */
export class GdbRemote {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";
  #lastSent = "";

  /** Talk to the stub that reads `input` and writes `output`. */
  constructor(output: ReadableStream<Uint8Array>, input: WritableStream<Uint8Array>) {
    this.#reader = output.getReader();
    this.#writer = input.getWriter();
  }

  /** Send `data` and resolve to the reply's data. Rejects when the stub closes the stream. */
  async request(data: string): Promise<string> {
    await this.#send(data);
    return await this.#receive();
  }

  /**
   * Send a resume request (`c`, `C11`…) and resolve to the stop reply that ends it,
   * skipping console output (`O…`) packets.
   */
  async resume(data: string): Promise<StopReply> {
    await this.#send(data);
    while (true) {
      const reply = await this.#receive();
      if (reply.startsWith("O") && reply !== "OK") continue;
      const stop = parseStopReply(reply);
      if (!stop) throw new Error(`unexpected reply "${reply.slice(0, 40)}" to "${data}"`);
      return stop;
    }
  }

  /** Stop reading and writing (the stub sees its input end). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
  }

  async #send(data: string): Promise<void> {
    this.#lastSent = encodePacket(data);
    await this.#writer.write(_bytes(this.#lastSent));
  }

  async #receive(): Promise<string> {
    while (true) {
      // Acknowledgements of what we sent: `+`, or `-` to have it sent again.
      while (this.#buffer[0] === "+" || this.#buffer[0] === "-") {
        if (this.#buffer[0] === "-") await this.#writer.write(_bytes(this.#lastSent));
        this.#buffer = this.#buffer.slice(1);
      }
      const start = this.#buffer.indexOf("$");
      const end = start < 0 ? -1 : this.#buffer.indexOf("#", start);
      if (end >= 0 && this.#buffer.length >= end + 3) {
        const data = this.#buffer.slice(start + 1, end);
        const sum = this.#buffer.slice(end + 1, end + 3);
        this.#buffer = this.#buffer.slice(end + 3);
        if (sum.toLowerCase() !== checksum(data)) {
          await this.#writer.write(_bytes("-"));
          continue;
        }
        await this.#writer.write(_bytes("+"));
        return data;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("gdbserver closed the connection");
      // Packets are ASCII; one char per byte keeps checksums right whatever they hold.
      for (const byte of value) this.#buffer += String.fromCharCode(byte);
    }
  }
}

function _bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function _unhex(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new TextDecoder().decode(bytes);
}
