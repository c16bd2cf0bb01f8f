import assert from "node:assert/strict";
import {
  encodeRespCommand,
  RESP_INCOMPLETE,
  respCommandText,
  RespReplyBuffer,
  RespReplyError,
} from "./resp_protocol.ts";

Deno.test("respCommandText() counts bulk lengths in UTF-8 bytes, numbers in decimal", () => {
  assert.equal(
    respCommandText("SET", ["k\u00e9", 42]),
    "*3\r\n$3\r\nSET\r\n$3\r\nk\u00e9\r\n$2\r\n42\r\n",
  );
  // A lone surrogate is written as U+FFFD: 3 bytes, as TextEncoder writes it.
  const bytes = encodeRespCommand("ECHO", ["\ud800"]);
  assert.equal(new TextDecoder().decode(bytes), "*2\r\n$4\r\nECHO\r\n$3\r\n\ufffd\r\n");
});

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
