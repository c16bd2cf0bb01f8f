import assert from "node:assert/strict";
import { LinePrefixWriter } from "./line_prefix_writer.ts";

/** A target that accepts at most `chunk` bytes per write and records what it got. */
function target(chunk = Infinity) {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  return {
    writes,
    text: () => writes.join(""),
    write(bytes: Uint8Array): Promise<number> {
      const n = Math.min(bytes.length, chunk);
      writes.push(decoder.decode(bytes.subarray(0, n)));
      return Promise.resolve(n);
    },
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("LinePrefixWriter prefixes every line and holds a partial line until its end", async () => {
  const out = target();
  const writer = new LinePrefixWriter(out, "cam | ");
  assert.equal(await writer.write(bytes("one\ntwo\nthr")), 11);
  assert.equal(out.text(), "cam | one\ncam | two\n");
  await writer.write(bytes("ee"));
  assert.equal(out.text(), "cam | one\ncam | two\n", "no newline yet: nothing written");
  await writer.write(bytes("\n\n"));
  assert.equal(out.text(), "cam | one\ncam | two\ncam | three\ncam | \n");
  await writer.write(bytes("last words"));
  await writer.flush();
  await writer.flush(); // nothing left: writes nothing
  assert.equal(out.text(), "cam | one\ncam | two\ncam | three\ncam | \ncam | last words\n");
});

Deno.test("LinePrefixWriter writes everything through a target that takes a few bytes at a time", async () => {
  const chunks: Uint8Array[] = [];
  const writer = new LinePrefixWriter({
    write(data: Uint8Array): Promise<number> {
      const n = Math.min(data.length, 3);
      chunks.push(data.slice(0, n));
      return Promise.resolve(n);
    },
  }, "a | ");
  await writer.write(bytes("héllo\nworld\n"));
  assert.ok(chunks.every((c) => c.length <= 3));
  const all = new Uint8Array(chunks.flatMap((c) => [...c]));
  assert.equal(new TextDecoder().decode(all), "a | héllo\na | world\n");
});

Deno.test("LinePrefixWriter writes a partial line longer than maxPendingBytes without waiting", async () => {
  const out = target();
  const writer = new LinePrefixWriter(out, "p | ", { maxPendingBytes: 8 });
  await writer.write(bytes("0123"));
  assert.equal(out.text(), "");
  await writer.write(bytes("456789"));
  assert.equal(out.text(), "p | 0123456789\n");
  await writer.write(bytes("ab\ncdefghijkl"));
  assert.equal(out.text(), "p | 0123456789\np | ab\np | cdefghijkl\n");
});
