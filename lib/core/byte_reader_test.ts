import assert from "node:assert/strict";
import { streamByteReader } from "./byte_reader.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Everything `read` gives, decoded chunk by chunk, read with one caller buffer. */
async function readAll(
  reader: ReturnType<typeof streamByteReader>,
  buffer: Uint8Array<ArrayBuffer>,
): Promise<string[]> {
  const chunks: string[] = [];
  for (let chunk = await reader.read(buffer); chunk; chunk = await reader.read(buffer)) {
    chunks.push(decoder.decode(chunk));
  }
  return chunks;
}

Deno.test("streamByteReader() reads a byte stream with one buffer of its own, as Deno's pipes are read", async () => {
  const chunks = ["one\ntw", "o\nthree\n", "four"];
  const readable = new ReadableStream({
    type: "bytes",
    pull(controller: ReadableByteStreamController) {
      const next = chunks.shift();
      if (next === undefined) {
        controller.close();
        controller.byobRequest?.respond(0); // a pending BYOB read learns of the end (as Deno's pipes do)
      } else controller.enqueue(encoder.encode(next));
    },
  });
  const buffer = new Uint8Array(16);
  const reader = streamByteReader(readable);
  assert.deepEqual(await readAll(reader, buffer), ["one\ntw", "o\nthree\n", "four"]);
  assert.equal(buffer.byteLength, 16, "the caller's buffer is never taken");
});

Deno.test("streamByteReader() splits a chunk of a plain stream that does not fit the caller's buffer", async () => {
  const readable = ReadableStream.from([encoder.encode("abcdefgh"), encoder.encode("ij")]);
  assert.deepEqual(await readAll(streamByteReader(readable), new Uint8Array(3)), [
    "abc",
    "def",
    "gh",
    "ij",
  ]);
});

Deno.test("streamByteReader() cancel ends a pending read", async () => {
  const readable = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
  const reader = streamByteReader(readable);
  const pending = reader.read(new Uint8Array(8));
  await reader.cancel();
  assert.equal(await pending, undefined);
});
