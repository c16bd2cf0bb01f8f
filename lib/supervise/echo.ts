/**
 * Echo of the child's raw output to wrapp's own stdout/stderr, so journald and a
 * terminal still see exactly what the service printed.
 *
 * @module
 */

/** Where echoed bytes go. `Deno.stdout` and `Deno.stderr` fit. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes chunks in full; on a broken pipe it stops echoing instead of failing the supervisor. */
export class Echo {
  readonly #target: ByteWriter;
  #broken: unknown;

  /** Echo to `target`. */
  constructor(target: ByteWriter) {
    this.#target = target;
  }

  /** The error that stopped the echo, if any. */
  get broken(): unknown {
    return this.#broken;
  }

  /** Write the whole chunk (unless the target broke earlier). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#broken !== undefined) return;
    try {
      let written = 0;
      while (written < chunk.length) written += await this.#target.write(chunk.subarray(written));
    } catch (error) {
      this.#broken = error;
    }
  }
}
