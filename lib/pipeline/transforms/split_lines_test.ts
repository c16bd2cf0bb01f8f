import assert from "node:assert/strict";
import { decodeVisible, LineSplitter, type SplitLine } from "./split_lines.ts";

const enc = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p));

/** Feed every chunk, then end(); all lines in order. */
function splitAll(chunks: Uint8Array[], maxLineBytes?: number): SplitLine[] {
  const splitter = new LineSplitter({ maxLineBytes });
  const out = chunks.flatMap((c) => splitter.push(c));
  return [...out, ...splitter.end()];
}

Deno.test("LineSplitter splits a chunk on newlines", () => {
  assert.deepEqual(splitAll([bytes("a\nbb\nccc\n")]), [{ text: "a" }, { text: "bb" }, {
    text: "ccc",
  }]);
});

Deno.test("LineSplitter keeps empty lines as empty strings", () => {
  assert.deepEqual(splitAll([bytes("\n\na\n\n")]), [{ text: "" }, { text: "" }, { text: "a" }, {
    text: "",
  }]);
});

Deno.test("LineSplitter strips a trailing carriage return", () => {
  assert.deepEqual(splitAll([bytes("a\r\n\r\nb\rc\r\n")]), [{ text: "a" }, { text: "" }, {
    text: "b\rc",
  }]);
});

Deno.test("LineSplitter joins a line split across two chunks", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(bytes("hel")), []);
  assert.deepEqual(splitter.push(bytes("lo\nwor")), [{ text: "hello" }]);
  assert.deepEqual(splitter.push(bytes("ld\n")), [{ text: "world" }]);
  assert.deepEqual(splitter.end(), []);
});

Deno.test("LineSplitter joins a line split across many chunks", () => {
  const chunks = [..."a long line\n"].map((c) => bytes(c));
  assert.deepEqual(splitAll(chunks), [{ text: "a long line" }]);
});

Deno.test("LineSplitter strips a \\r\\n split across chunks", () => {
  assert.deepEqual(splitAll([bytes("abc\r"), bytes("\ndef\r"), bytes("\n")]), [
    { text: "abc" },
    { text: "def" },
  ]);
});

Deno.test("LineSplitter keeps a \\r that is not followed by a newline", () => {
  assert.deepEqual(splitAll([bytes("abc\r"), bytes("def\n")]), [{ text: "abc\rdef" }]);
});

Deno.test("LineSplitter joins a multibyte character split across chunks", () => {
  const euro = [0xe2, 0x82, 0xac];
  assert.deepEqual(splitAll([bytes("x", euro.slice(0, 1)), bytes(euro.slice(1), "y\n")]), [
    { text: "x€y" },
  ]);
  assert.deepEqual(splitAll([bytes(euro.slice(0, 2)), bytes(euro.slice(2)), bytes("\n")]), [
    { text: "€" },
  ]);
});

Deno.test("LineSplitter end() flushes a final line without newline", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(bytes("a\nlast")), [{ text: "a" }]);
  assert.deepEqual(splitter.end(), [{ text: "last" }]);
  assert.deepEqual(splitter.end(), [], "end() resets the splitter");
});

Deno.test("LineSplitter end() returns nothing when the input ended with a newline", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(bytes("a\n")), [{ text: "a" }]);
  assert.deepEqual(splitter.end(), []);
  assert.deepEqual(new LineSplitter().end(), []);
});

Deno.test("LineSplitter end() drops a final \\r", () => {
  assert.deepEqual(splitAll([bytes("last\r")]), [{ text: "last" }]);
});

Deno.test("LineSplitter emits a line exactly at the limit whole", () => {
  assert.deepEqual(splitAll([bytes("abcd\n")], 4), [{ text: "abcd" }]);
  assert.deepEqual(splitAll([bytes("ab"), bytes("cd"), bytes("\n")], 4), [{ text: "abcd" }]);
  assert.deepEqual(splitAll([bytes("abcd")], 4), [{ text: "abcd" }], "at end()");
});

Deno.test("LineSplitter does not count a \\r\\n split across chunks against the limit", () => {
  assert.deepEqual(splitAll([bytes("abcd\r"), bytes("\n")], 4), [{ text: "abcd" }]);
  assert.deepEqual(splitAll([bytes("abcd"), bytes("\r"), bytes("\n")], 4), [{ text: "abcd" }]);
});

Deno.test("LineSplitter cuts a line one byte over the limit into two parts", () => {
  const expected = [
    { text: "abcd", split: { part: 1, last: false } },
    { text: "e", split: { part: 2, last: true } },
  ];
  assert.deepEqual(splitAll([bytes("abcde\n")], 4), expected);
  assert.deepEqual(splitAll([bytes("abcd"), bytes("e\n")], 4), expected);
  assert.deepEqual(splitAll([bytes("abcd\r"), bytes("e\n")], 4), [
    { text: "abcd", split: { part: 1, last: false } },
    { text: "\re", split: { part: 2, last: true } },
  ]);
});

Deno.test("LineSplitter cuts a long line into three parts across chunks", () => {
  const expected = [
    { text: "abcd", split: { part: 1, last: false } },
    { text: "efgh", split: { part: 2, last: false } },
    { text: "ij", split: { part: 3, last: true } },
    { text: "next" },
  ];
  assert.deepEqual(splitAll([bytes("abcdefghij\nnext\n")], 4), expected);
  assert.deepEqual(splitAll([..."abcdefghij\nnext\n"].map((c) => bytes(c)), 4), expected);
});

Deno.test("LineSplitter emits parts before the line ends, holding at most the limit", () => {
  const splitter = new LineSplitter({ maxLineBytes: 4 });
  assert.deepEqual(splitter.push(bytes("abcdef")), [{
    text: "abcd",
    split: { part: 1, last: false },
  }]);
  assert.deepEqual(splitter.push(bytes("gh")), []);
  assert.deepEqual(splitter.push(bytes("i")), [{ text: "efgh", split: { part: 2, last: false } }]);
  assert.deepEqual(splitter.end(), [{ text: "i", split: { part: 3, last: true } }]);
});

Deno.test("LineSplitter cuts long lines on a UTF-8 character boundary", () => {
  // "aé€" is 1 + 2 + 3 bytes; a 4-byte limit must not cut "€" (E2 82 AC).
  assert.deepEqual(splitAll([bytes("aé€\n")], 4), [
    { text: "aé", split: { part: 1, last: false } },
    { text: "€", split: { part: 2, last: true } },
  ]);
  assert.deepEqual(splitAll([bytes("aaa😀b\n")], 4), [
    { text: "aaa", split: { part: 1, last: false } },
    { text: "😀", split: { part: 2, last: false } },
    { text: "b", split: { part: 3, last: true } },
  ]);
  assert.deepEqual(splitAll([..."aaa😀b\n"].map((c) => bytes(c)), 4).map((l) => l.text), [
    "aaa",
    "😀",
    "b",
  ]);
});

Deno.test("LineSplitter keeps invalid UTF-8 visible as \\xNN", () => {
  assert.deepEqual(splitAll([bytes("a", [0xff], "b\n")]), [{ text: "a\\xffb" }]);
  assert.deepEqual(splitAll([bytes("x", [0xe2, 0x82], "\n")]), [{ text: "x\\xe2\\x82" }]);
  assert.deepEqual(splitAll([bytes([0xc0, 0xaf], "\nok\n")]), [{ text: "\\xc0\\xaf" }, {
    text: "ok",
  }]);
});

Deno.test("LineSplitter cuts invalid bytes at the limit", () => {
  assert.deepEqual(splitAll([bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0x0a])], 4), [
    { text: "\\xff\\xff\\xff\\xff", split: { part: 1, last: false } },
    { text: "\\xff", split: { part: 2, last: true } },
  ]);
});

Deno.test("LineSplitter takes the fast path for many short lines and the exact path for long ones", () => {
  const line = "x".repeat(30);
  const input = bytes(`${line}\n`.repeat(10), "y".repeat(70), "\n", `${line}\n`);
  const out = splitAll([input], 64);
  assert.equal(out.length, 13);
  assert.deepEqual(out[10], { text: "y".repeat(64), split: { part: 1, last: false } });
  assert.deepEqual(out[11], { text: "y".repeat(6), split: { part: 2, last: true } });
  assert.deepEqual(out[12], { text: line });
});

Deno.test("LineSplitter gives the same lines for any chunking", () => {
  const input = bytes("one\r\ntwo é€😀\n", [0xff, 0xe2, 0x82], "\r\n\nthree four five six\nsev");
  const whole = splitAll([input], 8);
  for (let size = 1; size < input.length; size++) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
    assert.deepEqual(splitAll(chunks, 8), whole, `chunk size ${size}`);
  }
});

Deno.test("LineSplitter rejects a limit that is not a positive integer", () => {
  assert.throws(() => new LineSplitter({ maxLineBytes: 0 }), RangeError);
  assert.throws(() => new LineSplitter({ maxLineBytes: 1.5 }), RangeError);
});

Deno.test("decodeVisible() decodes valid UTF-8 normally", () => {
  assert.equal(decodeVisible(bytes("héllo € 😀")), "héllo € 😀");
  assert.equal(decodeVisible(new Uint8Array()), "");
});

Deno.test("decodeVisible() keeps a real U+FFFD", () => {
  assert.equal(decodeVisible(bytes("a\uFFFDb")), "a\uFFFDb");
  assert.equal(decodeVisible(bytes("\uFFFD", [0xff])), "\uFFFD\\xff");
});

Deno.test("decodeVisible() shows a lone invalid byte as \\xNN", () => {
  assert.equal(decodeVisible(bytes([0xff])), "\\xff");
  assert.equal(decodeVisible(bytes("a", [0x80], "b")), "a\\x80b");
  assert.equal(decodeVisible(bytes([0x05, 0xfe])), "\x05\\xfe");
});

Deno.test("decodeVisible() shows each byte of a truncated sequence", () => {
  assert.equal(decodeVisible(bytes([0xe2, 0x82], "x")), "\\xe2\\x82x");
  assert.equal(decodeVisible(bytes("x", [0xf0, 0x9f, 0x98])), "x\\xf0\\x9f\\x98");
});

Deno.test("decodeVisible() shows overlong encodings and surrogates as bytes", () => {
  assert.equal(decodeVisible(bytes([0xc0, 0xaf])), "\\xc0\\xaf");
  assert.equal(decodeVisible(bytes([0xe0, 0x80, 0xaf])), "\\xe0\\x80\\xaf");
  assert.equal(decodeVisible(bytes([0xed, 0xa0, 0x80])), "\\xed\\xa0\\x80");
  assert.equal(decodeVisible(bytes([0xf4, 0x90, 0x80, 0x80])), "\\xf4\\x90\\x80\\x80");
});

Deno.test("decodeVisible() keeps a byte order mark", () => {
  assert.equal(decodeVisible(bytes("\uFEFFa")), "\uFEFFa");
});
