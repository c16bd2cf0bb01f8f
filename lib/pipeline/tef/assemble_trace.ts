/**
 * Turns the JSON-lines file a trace is recorded into while running into the array-form
 * `trace.json` that ui.perfetto.dev opens.
 *
 * The JSON-lines file is crash-safe but not loadable; the assembled file is loadable but
 * only written at the end. Assembly streams: it reads 1 MiB chunks and writes 4 MiB
 * batches, so a 200 MB recording never sits in memory, and it copies lines as bytes (see
 * `event_line_bytes.ts`), so a million lines make no million strings. The output is
 * written to a temporary file in the same folder, fsynced and renamed over the target, so a
 * reader (or a crash) never sees a half-written trace.
 *
 * @module
 */

import { basename, dirname, join } from "../../core/posix_path.ts";
import { isPlainEventLine } from "./event_line_bytes.ts";

/**
 * The one event written when a recording holds no valid event, so the trace is still a
 * valid, non-empty file Perfetto opens (it shows a process named after the situation)
 * rather than an empty file it rejects. pid 0 because no real process is known.
 */
export const EMPTY_TRACE_EVENT: Readonly<Record<string, unknown>> = Object.freeze({
  ph: "M",
  pid: 0,
  name: "process_name",
  args: Object.freeze({ name: "wrapp: no events recorded" }),
});

/** What {@linkcode assembleTrace} did. */
export interface AssembleResult {
  /** Events written to the trace (not counting {@linkcode EMPTY_TRACE_EVENT}). */
  events: number;
  /** Lines left out: blank, not JSON, not an object with a string `ph`, or cut off by a crash. */
  skipped: number;
}

const _READ_CHUNK_BYTES = 1 << 20;
const _WRITE_BATCH_BYTES = 4 << 20;
const _NEWLINE = 0x0a;
const _encoder = new TextEncoder();
const _OPEN = _encoder.encode("[");
const _SEPARATOR = _encoder.encode(",\n");
const _CLOSE = _encoder.encode("]\n");

/** What `String.prototype.trim` removes that is ASCII: the rest is left to the slow path. */
function _isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * Stream the JSON-lines TEF file `jsonlPath` into an array-form trace at `tracePath`,
 * keeping the order of the lines.
 *
 * Lines that are blank, not valid JSON or not an event object (for example the last line,
 * cut off by a crash) are skipped and counted. The result always starts with `[{"`, which
 * is how Perfetto recognises a JSON trace, and is never empty: with no valid event it
 * holds {@linkcode EMPTY_TRACE_EVENT}. Throws the underlying `Deno.errors.*` error when a
 * file cannot be read or written; `tracePath` is then left as it was.
 *
 * The file is created 0644 less the umask, or with exactly `options.mode` — set before
 * any event is written, so a file meant to be private is never readable by others.
 */
export async function assembleTrace(
  jsonlPath: string,
  tracePath: string,
  options: { mode?: number } = {},
): Promise<AssembleResult> {
  const input = await Deno.open(jsonlPath, { read: true });
  const tempPath = _tempPathBeside(tracePath);
  let output: Deno.FsFile | undefined;
  try {
    output = await Deno.open(tempPath, {
      write: true,
      createNew: true,
      mode: options.mode === undefined ? 0o644 : options.mode & 0o600,
    });
    if (options.mode !== undefined) await Deno.chmod(tempPath, options.mode);
    const writer = new _BatchWriter(output);
    const result: AssembleResult = { events: 0, skipped: 0 };
    const decoder = new TextDecoder();
    const take = (bytes: Uint8Array, start: number, end: number) => {
      while (start < end && _isSpace(bytes[start])) start++;
      while (end > start && _isSpace(bytes[end - 1])) end--;
      let event: Uint8Array | undefined;
      if (isPlainEventLine(bytes, start, end)) event = bytes.subarray(start, end);
      else if (start < end) {
        // Not certainly valid: JSON.parse decides, as it always has.
        const text = _eventText(decoder.decode(bytes.subarray(start, end)));
        if (text !== undefined) event = _encoder.encode(text);
      }
      if (event === undefined) {
        result.skipped++;
        return undefined;
      }
      const wait = writer.put(result.events === 0 ? _OPEN : _SEPARATOR, event);
      result.events++;
      return wait;
    };

    await _forEachLine(input, take);

    if (result.events === 0) {
      await writer.put(_OPEN, _encoder.encode(JSON.stringify(EMPTY_TRACE_EVENT)));
    }
    await writer.put(_CLOSE, new Uint8Array());
    await writer.flush();
    // Data reaches the disk before the rename makes it visible, so a power cut cannot
    // leave an empty trace.json behind.
    await output.syncData();
    output.close();
    output = undefined;
    await Deno.rename(tempPath, tracePath);
    return result;
  } catch (error) {
    output?.close();
    await Deno.remove(tempPath).catch(() => {});
    throw error;
  } finally {
    input.close();
  }
}

/**
 * Call `take` with every line of `input`, as bytes without the "\n", and await what it
 * returns. A last line without "\n" is complete if the writer died just after it, else cut off.
 */
async function _forEachLine(
  input: Deno.FsFile,
  take: (bytes: Uint8Array, start: number, end: number) => Promise<void> | undefined,
): Promise<void> {
  const buffer = new Uint8Array(_READ_CHUNK_BYTES);
  // Bytes of a line not yet ended by "\n", kept as parts so a huge line costs O(n).
  let carry: Uint8Array[] = [];
  for (;;) {
    const n = await input.read(buffer);
    if (n === null) break;
    const chunk = buffer.subarray(0, n);
    let start = 0;
    for (
      let newline = chunk.indexOf(_NEWLINE);
      newline >= 0;
      newline = chunk.indexOf(_NEWLINE, start)
    ) {
      let wait: Promise<void> | undefined;
      if (carry.length === 0) wait = take(chunk, start, newline);
      else {
        const line = _concat([...carry, chunk.subarray(start, newline)]);
        carry = [];
        wait = take(line, 0, line.length);
      }
      if (wait) await wait;
      start = newline + 1;
    }
    if (start < n) carry.push(chunk.slice(start));
  }
  if (carry.length > 0) {
    const line = _concat(carry);
    await take(line, 0, line.length);
  }
}

/**
 * The text to write for one line, or `undefined` to skip it. The raw text is kept when it
 * already starts with `{"` (no re-serialising cost); otherwise the parsed object is
 * re-serialised so the file still starts with `[{"`.
 */
function _eventText(line: string): string | undefined {
  const text = line.trim();
  if (text.length === 0 || text[0] !== "{") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  if (typeof (value as { ph?: unknown }).ph !== "string") return undefined;
  return text.startsWith('{"') ? text : JSON.stringify(value);
}

/** Copies lines into one buffer and writes it when full: no string or promise per line. */
class _BatchWriter {
  readonly #file: Deno.FsFile;
  readonly #buffer = new Uint8Array(_WRITE_BATCH_BYTES);
  #used = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Append `separator` and `payload`; a promise only when the buffer had to be written first. */
  put(separator: Uint8Array, payload: Uint8Array): Promise<void> | undefined {
    if (this.#used + separator.length + payload.length > this.#buffer.length) {
      return this.#flushThenPut(separator, payload);
    }
    this.#buffer.set(separator, this.#used);
    this.#buffer.set(payload, this.#used + separator.length);
    this.#used += separator.length + payload.length;
    return undefined;
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    await writeAll(this.#file, this.#buffer.subarray(0, used));
  }

  async #flushThenPut(separator: Uint8Array, payload: Uint8Array): Promise<void> {
    await this.flush();
    if (separator.length + payload.length <= this.#buffer.length) {
      this.put(separator, payload);
      return;
    }
    await writeAll(this.#file, separator); // a line larger than the buffer goes straight out
    await writeAll(this.#file, payload);
  }
}

/** Write every byte, looping on partial writes. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

function _concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A unique hidden name in the target's folder, so the final rename stays on one filesystem. */
function _tempPathBeside(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  return join(dirname(path), `.${basename(path)}.${Deno.pid}.${random}.tmp`);
}
