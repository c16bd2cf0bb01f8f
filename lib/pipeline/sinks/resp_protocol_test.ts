import assert from "node:assert/strict";
import { RESP_INCOMPLETE, RespReplyBuffer, RespReplyError } from "./resp_protocol.ts";

Deno.test("RespReplyBuffer gives each reply once it is complete, however the bytes are split", () => {
  const wire = new TextEncoder().encode(
    "+OK\r\n-ERR no\r\n:7\r\n$-1\r\n$5\r\nh\u00e9\u00e9\r\n*2\r\n*1\r\n:1\r\n$2\r\nab\r\n",
  );
  const buffer = new RespReplyBuffer();
  const replies: unknown[] = [];
  for (const byte of wire) {
    buffer.append(new Uint8Array([byte]));
    for (let reply = buffer.next(); reply !== RESP_INCOMPLETE; reply = buffer.next()) {
      replies.push(reply);
    }
  }
  assert.equal(replies.length, 6);
  assert.equal(replies[0], "OK");
  assert.ok(replies[1] instanceof RespReplyError && replies[1].message === "ERR no");
  assert.deepEqual(replies.slice(2), [7, null, "h\u00e9\u00e9", [[1], "ab"]]);
  assert.equal(buffer.next(), RESP_INCOMPLETE);
});

Deno.test("RespReplyBuffer reads negative integers and a multi-byte bulk string split inside a character", () => {
  const wire = new TextEncoder().encode(":-42\r\n$4\r\n\u20acx\r\n*-1\r\n");
  const buffer = new RespReplyBuffer();
  buffer.append(wire.subarray(0, 13)); // cut inside the euro sign
  assert.equal(buffer.next(), -42);
  assert.equal(buffer.next(), RESP_INCOMPLETE);
  buffer.append(wire.subarray(13));
  assert.equal(buffer.next(), "\u20acx");
  assert.equal(buffer.next(), null);
  assert.throws(() => {
    const bad = new RespReplyBuffer();
    bad.append(new TextEncoder().encode(":4x\r\n"));
    bad.next();
  }, /not an integer: 4x/);
});

Deno.test("RespReplyBuffer.next(true) skips a string reply's text, keeps errors, numbers and arrays", () => {
  const buffer = new RespReplyBuffer();
  buffer.append(
    new TextEncoder().encode("$15\r\n1765000000000-0\r\n+OK\r\n-ERR no\r\n:3\r\n*1\r\n$1\r\na\r\n"),
  );
  assert.equal(buffer.next(true), "");
  assert.equal(buffer.next(true), "");
  const error = buffer.next(true);
  assert.ok(error instanceof RespReplyError && error.message === "ERR no");
  assert.equal(buffer.next(true), 3);
  assert.deepEqual(buffer.next(true), ["a"]);
  assert.equal(buffer.next(true), RESP_INCOMPLETE);
});
