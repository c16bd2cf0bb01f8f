/**
 * Echo of the child's raw output to wrapp's own stdout/stderr, so journald and a
 * terminal still see exactly what the service printed.
 *
 * The echo never holds up the service: a chunk is queued and written in the background.
 * When the reader of wrapp's stdout is stuck (`wrapp run svc.toml | sleep 60`), the queue
 * fills up to a bound and further chunks are dropped, counted, and reported; reading the
 * service's output and every sink go on at full speed.
 *
 * @module
 */

/** Where echoed bytes go. `Deno.stdout` and `Deno.stderr` fit. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** What an echo could not write. */
export interface EchoDrops {
  /** Chunks dropped. */
  chunks: number;
  /** Bytes dropped. */
  bytes: number;
  /** Line ends (`\n`) among the dropped bytes: about how many lines the echo lost. */
  lines: number;
}

/** Options of {@linkcode Echo}. */
export interface EchoOptions {
  /** Most bytes queued for a writer that does not keep up; beyond, chunks are dropped. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Called once, at the first dropped chunk (the start of the trouble). */
  onFirstDrop?: (drops: EchoDrops) => void;
  /**
   * The target is /dev/null (see {@linkcode isDevNull}): chunks are taken and forgotten
   * without a write, which would change nothing but cost a system call each. Default false.
   */
  discard?: boolean;
}

/** The default {@linkcode EchoOptions.maxQueuedBytes}. */
export const DEFAULT_ECHO_QUEUE_BYTES = 1 << 20;

/**
 * Writes chunks in full, in order, in the background. On a broken pipe it stops echoing
 * instead of failing the supervisor; behind a stuck reader it drops what does not fit.
 */
export class Echo {
  readonly #target: ByteWriter;
  readonly #max: number;
  readonly #onFirstDrop?: (drops: EchoDrops) => void;
  readonly #discard: boolean;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** Bytes of `#queue[0]` already written. */
  #headWritten = 0;
  #writing: Promise<void> | undefined;
  #broken: unknown;
  #closed = false;
  readonly #drops: EchoDrops = { chunks: 0, bytes: 0, lines: 0 };

  /** Echo to `target`. */
  constructor(target: ByteWriter, options: EchoOptions = {}) {
    this.#target = target;
    this.#max = options.maxQueuedBytes ?? DEFAULT_ECHO_QUEUE_BYTES;
    this.#onFirstDrop = options.onFirstDrop;
    this.#discard = options.discard ?? false;
  }

  /** The error that stopped the echo, if any. */
  get broken(): unknown {
    return this.#broken;
  }

  /** What was dropped so far (behind a stuck reader, or left queued at {@linkcode Echo.close}). */
  get drops(): Readonly<EchoDrops> {
    return { ...this.#drops };
  }

  /** Bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Queue the chunk and return at once; it is dropped (and counted) when the queue holds
   * `maxQueuedBytes` already. The caller must not modify the chunk afterwards.
   */
  write(chunk: Uint8Array): void {
    if (this.#broken !== undefined || this.#closed || chunk.length === 0 || this.#discard) return;
    // One chunk larger than the bound still goes through an empty queue: a reader that
    // keeps up never loses anything.
    if (this.#queued > 0 && this.#queued + chunk.length > this.#max) {
      this.#drop(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#writing ??= this.#drain();
  }

  /**
   * Stop taking chunks and wait until the queue is written or `timeoutMs` passed; what is
   * still unwritten then is counted as dropped (a write under way may still complete).
   * Returns every drop of this echo.
   */
  async close(timeoutMs: number): Promise<Readonly<EchoDrops>> {
    this.#closed = true;
    if (this.#writing) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
      await Promise.race([this.#writing, timeout]);
      clearTimeout(timer);
    }
    const left = this.#queue;
    if (left.length > 0) left[0] = left[0].subarray(this.#headWritten);
    this.#queue = [];
    this.#queued = 0;
    this.#headWritten = 0;
    for (const chunk of left) if (chunk.length > 0) this.#drop(chunk);
    return this.drops;
  }

  #drop(chunk: Uint8Array): void {
    const first = this.#drops.chunks === 0;
    this.#drops.chunks++;
    this.#drops.bytes += chunk.length;
    this.#drops.lines += countLineEnds(chunk);
    if (first) this.#onFirstDrop?.(this.drops);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const chunk = this.#queue[0];
        this.#headWritten = 0;
        while (this.#headWritten < chunk.length) {
          const n = await this.#target.write(chunk.subarray(this.#headWritten));
          if (this.#queue[0] !== chunk) return; // close() took the queue meanwhile
          this.#headWritten += n;
        }
        this.#queue.shift();
        this.#queued -= chunk.length;
        this.#headWritten = 0;
      }
    } catch (error) {
      this.#broken = error;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#writing = undefined;
    }
  }
}

/** How many `\n` bytes `bytes` holds. */
export function countLineEnds(bytes: Uint8Array): number {
  let n = 0;
  let at = bytes.indexOf(0x0a);
  while (at !== -1) {
    n++;
    at = bytes.indexOf(0x0a, at + 1);
  }
  return n;
}

/**
 * Whether `path` is /dev/null (or another name of that device); `/proc/self/fd/1` asks it
 * of wrapp's stdout, as when a service manager or a shell sends wrapp's output nowhere.
 * False when it cannot tell.
 */
export function isDevNull(path: string): boolean {
  try {
    const target = Deno.statSync(path);
    if (!target.isCharDevice || target.rdev === null) return false;
    return target.rdev === Deno.statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}
