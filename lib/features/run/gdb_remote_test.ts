import assert from "node:assert/strict";
import { checksum, encodePacket, GdbRemote, parseStopReply } from "./gdb_remote.ts";

Deno.test("encodePacket() frames data with its checksum", () => {
  assert.equal(checksum(""), "00");
  assert.equal(encodePacket("?"), "$?#3f");
  assert.equal(
    encodePacket("qSupported:multiprocess+"),
    `$qSupported:multiprocess+#${checksum("qSupported:multiprocess+")}`,
  );
  assert.throws(() => encodePacket("a#b"), RangeError);
});

Deno.test("parseStopReply() reads signals, exec events, exits and kills", () => {
  assert.deepEqual(parseStopReply("T1106:0*,;thread:p2379.2379;core:0;"), {
    kind: "stopped",
    signal: 0x11,
  });
  assert.deepEqual(
    parseStopReply("T05exec:2f746d702f737663;06:0*,;thread:p24f2.24f2;core:0;"),
    { kind: "stopped", signal: 5, exec: "/tmp/svc" },
  );
  assert.deepEqual(parseStopReply("S13"), { kind: "stopped", signal: 0x13 });
  assert.deepEqual(parseStopReply("W03;process:1f"), { kind: "exited", code: 3 });
  assert.deepEqual(parseStopReply("X09"), { kind: "killed", signal: 9 });
  assert.deepEqual(parseStopReply("W3;process:1085"), { kind: "exited", code: 3 });
  assert.equal(parseStopReply("OK"), undefined);
  assert.equal(parseStopReply("E01"), undefined);
});

/** A stub on the other end of two in-memory pipes: it answers each packet with `reply(packet)`. */
function fakeStub(reply: (packet: string) => string[], options: { garble?: boolean } = {}) {
  const toStub = new TransformStream<Uint8Array, Uint8Array>();
  const fromStub = new TransformStream<Uint8Array, Uint8Array>();
  const received: string[] = [];
  const wire: string[] = [];
  let garble = options.garble ?? false;
  (async () => {
    const writer = fromStub.writable.getWriter();
    let buffer = "";
    for await (const chunk of toStub.readable) {
      buffer += new TextDecoder().decode(chunk);
      wire.push(new TextDecoder().decode(chunk));
      let match;
      while ((match = /^[+-]*\$([^#]*)#[0-9a-f]{2}/.exec(buffer))) {
        buffer = buffer.slice(match[0].length);
        received.push(match[1]);
        let out = "+";
        for (const data of reply(match[1])) {
          // Replies may hold run-length encoding ("0*,"), which the client never sends.
          const framed = `$${data}#${checksum(data)}`;
          out += garble ? `$${data}#00${framed}` : framed; // resent after the client's "-"
          garble = false;
        }
        await writer.write(new TextEncoder().encode(out));
      }
      buffer = buffer.replace(/^[+-]+/, "");
    }
    await writer.close();
  })();
  return { remote: new GdbRemote(fromStub.readable, toStub.writable), received, wire };
}

Deno.test("GdbRemote: requests, console output skipped while resuming, acks both ways", async () => {
  const { remote, received, wire } = fakeStub((packet) => {
    if (packet === "?") return ["T0006:0*,;thread:p1.1;"];
    if (packet === "c") return ["O48690a", "T05exec:2f62696e2f7376;thread:p1.1;"];
    return ["OK"];
  });
  assert.equal(await remote.request("?"), "T0006:0*,;thread:p1.1;");
  assert.deepEqual(await remote.resume("c"), { kind: "stopped", signal: 5, exec: "/bin/sv" });
  assert.equal(await remote.request("D;1"), "OK");
  await remote.close();
  assert.deepEqual(received, ["?", "c", "D;1"]);
  assert.ok(wire.some((w) => w.startsWith("+")), "replies are acknowledged");
});

Deno.test("GdbRemote: a reply with a bad checksum is refused with '-' and read again", async () => {
  const { remote, wire } = fakeStub(() => ["S11"], { garble: true });
  assert.deepEqual(await remote.resume("c"), { kind: "stopped", signal: 0x11 });
  await remote.close();
  assert.ok(wire.includes("-"), JSON.stringify(wire));
});

Deno.test("GdbRemote: the stub going away rejects the request", async () => {
  const toStub = new TransformStream<Uint8Array, Uint8Array>();
  const fromStub = new TransformStream<Uint8Array, Uint8Array>();
  const remote = new GdbRemote(fromStub.readable, toStub.writable);
  void toStub.readable.pipeTo(new WritableStream());
  await fromStub.writable.close();
  await assert.rejects(remote.request("?"), /gdbserver closed the connection/);
  await remote.close();
});
