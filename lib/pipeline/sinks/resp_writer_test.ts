import assert from "node:assert/strict";
import { encodeRespCommand, RespCommandWriter } from "./resp_writer.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("encodeRespCommand() counts bulk lengths in UTF-8 bytes, numbers in decimal", () => {
  assert.equal(
    text(encodeRespCommand("SET", ["k\u00e9", 42, -7, 0, 1.5])),
    "*6\r\n$3\r\nSET\r\n$3\r\nk\u00e9\r\n$2\r\n42\r\n$2\r\n-7\r\n$1\r\n0\r\n$3\r\n1.5\r\n",
  );
  // A lone surrogate is written as U+FFFD: 3 bytes, as TextEncoder writes it.
  assert.equal(text(encodeRespCommand("ECHO", ["\ud800"])), "*2\r\n$4\r\nECHO\r\n$3\r\n\ufffd\r\n");
  // A pair is one 4-byte character.
  assert.equal(
    text(encodeRespCommand("ECHO", ["\u{1f600}"])),
    "*2\r\n$4\r\nECHO\r\n$4\r\n\u{1f600}\r\n",
  );
});

Deno.test("RespCommandWriter appends commands, from an offset of their arguments, growing as needed", () => {
  const writer = new RespCommandWriter(8);
  const long = "x".repeat(100) + "\u00e9".repeat(50); // past the byte-by-byte copy
  writer.command("XADD", ["logs", "XADD", "k", "*", "message", long], 2);
  writer.command("PING", []);
  const expected =
    `*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$7\r\nmessage\r\n$200\r\n${long}\r\n` +
    "*1\r\n$4\r\nPING\r\n";
  assert.equal(writer.length, new TextEncoder().encode(expected).length);
  assert.equal(text(writer.take()), expected);
  assert.equal(writer.length, 0, "taken: the next command starts a new buffer");
  writer.command("PING", []);
  assert.equal(text(writer.take()), "*1\r\n$4\r\nPING\r\n");
});

Deno.test("RespCommandWriter writes every digit of integers around and past 32 bits", () => {
  const numbers = [
    9,
    10,
    999_999_999,
    1_000_000_000,
    2_147_483_648,
    1_796_599_506_002, // a timestamp in ms
    -1_000_000_007,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ];
  const expected = numbers.map((n) => `$${String(n).length}\r\n${n}\r\n`).join("");
  assert.equal(
    text(encodeRespCommand("ECHO", numbers)),
    `*${numbers.length + 1}\r\n$4\r\nECHO\r\n${expected}`,
  );
});

Deno.test("RespCommandWriter: bytes taken stay as they were while later writers fill the same slab", () => {
  const bulk = (arg: string) => `$${new TextEncoder().encode(arg).length}\r\n${arg}\r\n`;
  const resp = (...args: string[]) => `*${args.length}\r\n${args.map(bulk).join("")}`;
  const taken: [Uint8Array, string][] = [];
  const long = "y".repeat(20_000); // past a quarter of a slab: a buffer of its own
  for (let i = 0; i < 400; i++) {
    // Pipelines built side by side, as a batch's databases are, growing past their start.
    const a = new RespCommandWriter(16);
    const b = new RespCommandWriter(16);
    const value = "v".repeat(i % 50);
    const other = i % 7 === 0 ? long : "w";
    a.command("SET", [`a${i}`, value]);
    b.command("SET", [`b${i}`, other]);
    a.command("INCR", [`a${i}`]);
    const expected = new Map([
      [a, resp("SET", `a${i}`, value) + resp("INCR", `a${i}`)],
      [b, resp("SET", `b${i}`, other)],
    ]);
    for (const writer of i % 2 ? [a, b] : [b, a]) {
      const bytes = writer.take();
      assert.equal(text(bytes), expected.get(writer));
      taken.push([bytes, expected.get(writer)!]);
    }
  }
  for (const [bytes, was] of taken) assert.equal(text(bytes), was);
});
