/**
 * A log file the recorded programs' output goes to (`app.log`, `workload.log`), keeping
 * its last lines in memory for error messages and its whole text, up to a bound, for
 * the load generator's figures.
 *
 * @module
 */

import { describeCause, SinkError } from "../../core/errors.ts";

/** Most characters of the output kept in memory. */
const _KEPT_CHARS = 1 << 20;

/** An output file being written. */
export class OutputLog {
  /** Where it is. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #decoder = new TextDecoder();
  #text = "";
  #writing: Promise<unknown> = Promise.resolve();
  #pumps: Promise<void>[] = [];

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Create (or append to) the file. Throws a {@linkcode SinkError} when it cannot. */
  static async open(path: string): Promise<OutputLog> {
    try {
      return new OutputLog(
        path,
        await Deno.open(path, { append: true, create: true, mode: 0o644 }),
      );
    } catch (error) {
      throw new SinkError(`Cannot write "${path}": ${describeCause(error)}`, { cause: error });
    }
  }

  /** Append text (a header, a note). */
  note(text: string): void {
    this.write(new TextEncoder().encode(text));
  }

  /** Append bytes, in order. */
  write(bytes: Uint8Array): void {
    this.#text += this.#decoder.decode(bytes, { stream: true });
    if (this.#text.length > 2 * _KEPT_CHARS) this.#text = this.#text.slice(-_KEPT_CHARS);
    this.#writing = this.#writing.then(() => _writeAll(this.#file, bytes)).catch(() => {});
  }

  /** Copy a stream into the log until it ends. */
  pump(stream: ReadableStream<Uint8Array> | undefined): void {
    if (!stream) return;
    this.#pumps.push((async () => {
      try {
        for await (const chunk of stream) this.write(chunk);
      } catch {
        // The stream broke: what arrived is kept.
      }
    })());
  }

  /** The output seen (its last MiB or more). */
  get text(): string {
    return this.#text;
  }

  /** The last `lines` non-empty lines, for an error message. */
  tail(lines = 5): string {
    return this.#text.replaceAll("\r", "\n").split("\n").map((l) => l.trimEnd())
      .filter((l) => l !== "").slice(-lines).join("\n");
  }

  /** Wait for the pumped streams to end (at most `timeoutMs`), flush and close. */
  async close(timeoutMs = 2000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.#pumps),
      new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
    await this.#writing;
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }
}

async function _writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}
