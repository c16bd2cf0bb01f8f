import assert from "node:assert/strict";
import { eventRuleProblem, type Frame, LineFramer, parseFrame, parseMessage } from "./protocol.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function framesText(frames: Frame[]): Array<string | number> {
  return frames.map((frame) =>
    "line" in frame
      ? decoder.decode(frame.line)
      : "tooLong" in frame
      ? frame.tooLong
      : `cut ${frame.cut}`
  );
}

Deno.test("LineFramer joins a line split across chunks and keeps empty lines", () => {
  const framer = new LineFramer(100);
  assert.deepEqual(framesText(framer.push(encoder.encode('OPEN a\n{"ph"'))), ["OPEN a"]);
  assert.deepEqual(framesText(framer.push(encoder.encode(":1"))), []);
  assert.deepEqual(framesText(framer.push(encoder.encode("}\n\nDIE\n"))), ['{"ph":1}', "", "DIE"]);
  assert.deepEqual(framer.end(), []);
});

Deno.test("LineFramer returns an unterminated last line at the end", () => {
  const framer = new LineFramer(100);
  assert.deepEqual(framesText(framer.push(encoder.encode("a\nb"))), ["a"]);
  assert.equal(framer.pendingBytes, 1);
  assert.deepEqual(framesText(framer.end()), ["b"]);
  assert.deepEqual(framer.end(), []);
});

Deno.test("LineFramer drops an over-long line without holding it, and goes on after it", () => {
  const framer = new LineFramer(8);
  assert.deepEqual(framesText(framer.push(encoder.encode("12345678\n123456"))), ["12345678"]);
  assert.deepEqual(framesText(framer.push(encoder.encode("789"))), []);
  assert.equal(framer.pendingBytes, 9);
  assert.deepEqual(framesText(framer.push(encoder.encode("0".repeat(1000)))), []);
  assert.deepEqual(framesText(framer.push(encoder.encode("\nok\n"))), [1009, "ok"]);
  // An over-long line inside a single chunk.
  assert.deepEqual(framesText(framer.push(encoder.encode("x".repeat(20) + "\ny\n"))), [20, "y"]);
  // Cut off by the end of the stream.
  framer.push(encoder.encode("z".repeat(9)));
  assert.deepEqual(framesText(framer.end()), [9]);
  assert.throws(() => new LineFramer(0), RangeError);
});

Deno.test("LineFramer.cut() frees an unfinished line, skips its rest and reports it at its end", () => {
  const framer = new LineFramer(100);
  assert.deepEqual(framesText(framer.push(encoder.encode("a\n0123456789"))), ["a"]);
  assert.equal(framer.heldBytes, 10);
  assert.equal(framer.cut(), 10);
  assert.equal(framer.heldBytes, 0);
  assert.equal(framer.pendingBytes, 10);
  assert.equal(framer.cut(), 0, "nothing held any more");
  assert.deepEqual(framesText(framer.push(encoder.encode("abc\nnext\n"))), ["cut 13", "next"]);
  // Cut off by the end of the stream too.
  framer.push(encoder.encode("xyz"));
  framer.cut();
  assert.deepEqual(framesText(framer.end()), ["cut 3"]);
  assert.deepEqual(parseFrame({ cut: 13 }, 100), {
    type: "invalid",
    reason: "memory",
    message:
      "line of 13 bytes cut while unfinished: the unfinished lines of all connections held too much memory",
  });
});

Deno.test("parseMessage() reads the tldrs commands, trimming like tldrs", () => {
  assert.deepEqual(parseMessage("  OPEN   tr-1-ab  \r"), { type: "open", traceId: "tr-1-ab" });
  assert.deepEqual(parseMessage("DIE"), { type: "die" });
  assert.deepEqual(parseMessage("DIE_WHEN_IDLE\r"), { type: "die_when_idle" });
  assert.deepEqual(parseMessage("EMIT_TEF /tmp/t.json"), { type: "emit_tef", path: "/tmp/t.json" });
  assert.deepEqual(parseMessage("EMIT_TEF_AT_EXIT /tmp/a b.json"), {
    type: "emit_tef_at_exit",
    path: "/tmp/a b.json",
  });
  assert.deepEqual(parseMessage(""), { type: "empty" });
  assert.deepEqual(parseMessage(" \t\r"), { type: "empty" });
});

Deno.test("parseMessage() refuses trace ids that escape the folder", () => {
  for (const id of ["../x", "/etc/passwd", "a/b", "..", "-rf"]) {
    const message = parseMessage(`OPEN ${id}`);
    assert.equal(message.type, "invalid", id);
    assert.equal(message.type === "invalid" && message.reason, "trace_id");
  }
  assert.deepEqual(parseMessage("OPEN a\0b"), {
    type: "invalid",
    reason: "trace_id",
    message: 'refused trace id "a\\u0000b": it contains the control character U+0000',
  });
  assert.deepEqual(parseMessage("OPEN"), {
    type: "invalid",
    reason: "trace_id",
    message: 'OPEN needs a trace id: "OPEN <trace-id>"',
  });
});

Deno.test("parseMessage() refuses EMIT_TEF to a relative path with a clear message", () => {
  assert.deepEqual(parseMessage("EMIT_TEF trace.json"), {
    type: "invalid",
    reason: "relative_path",
    message:
      'EMIT_TEF needs an absolute path (the daemon does not know the client\'s working directory), got "trace.json"',
  });
  const atExit = parseMessage("EMIT_TEF_AT_EXIT ../t.json");
  assert.equal(atExit.type === "invalid" && atExit.reason, "relative_path");
  const empty = parseMessage("EMIT_TEF");
  assert.equal(
    empty.type === "invalid" && empty.message,
    'EMIT_TEF needs an absolute path: "EMIT_TEF /path/to/trace.json"',
  );
});

Deno.test("parseMessage() parses events and keeps their text", () => {
  const text = '{"ph":"X","name":"f","ts":1.5,"dur":2,"pid":1,"tid":2}';
  const message = parseMessage(` ${text} `);
  assert.equal(message.type, "event");
  assert.equal(message.type === "event" && message.text, text);
  assert.equal(message.type === "event" && message.event.name, "f");
});

Deno.test("parseMessage() rejects bad JSON, non-events and Perfetto rule breakers", () => {
  const reason = (line: string) => {
    const message = parseMessage(line);
    return message.type === "invalid" ? `${message.reason}: ${message.message}` : message.type;
  };
  assert.match(reason('{"ph":"X",'), /^json: not valid JSON \(/);
  assert.equal(reason('{"name":"x"}'), 'not_event: not a TEF event: it has no string "ph"');
  assert.equal(
    reason('{"ph":"P","ts":1,"pid":1,"tid":1}'),
    'perfetto: breaks a Perfetto rule: unsupported ph "P"',
  );
  assert.equal(
    reason('{"ph":"X","name":"f","ts":1,"pid":1,"tid":1}'),
    'perfetto: breaks a Perfetto rule: X event "f" has no dur',
  );
  assert.equal(
    reason('{"ph":"C","name":"c","ts":1,"pid":1,"tid":1,"args":{"v":"high"}}'),
    'perfetto: breaks a Perfetto rule: C event "c" has non-numeric arg "v"',
  );
  assert.equal(
    reason('{"ph":"i","name":"i","ts":1,"pid":-1,"tid":1}'),
    'perfetto: breaks a Perfetto rule: i event "i" has pid -1, expected an integer 0..4294967295',
  );
  assert.match(reason("HELLO there"), /^unknown: unknown message "HELLO there" \(expected OPEN/);
  assert.match(reason("SYMLINK /x"), /^unknown:/);
});

Deno.test("eventRuleProblem() checks B and E alone, without asking for their partner", () => {
  assert.equal(eventRuleProblem({ ph: "B", name: "f", ts: 1, pid: 1, tid: 1 }), undefined);
  assert.equal(eventRuleProblem({ ph: "E", ts: 2, pid: 1, tid: 1 }), undefined);
  assert.equal(eventRuleProblem({ ph: "E", pid: 1, tid: 1 }), "E event has no ts");
  assert.equal(
    eventRuleProblem({ ph: "B", name: "f", ts: 1, pid: 1 }),
    'B event "f" has no tid',
  );
  assert.equal(
    eventRuleProblem({ ph: "M", name: "process_name", pid: 1, args: { name: "p" } }),
    undefined,
  );
  assert.match(
    eventRuleProblem({ ph: "M", name: "process_labels", pid: 1, tid: 1 })!,
    /is not supported/,
  );
});

Deno.test("parseFrame() reports invalid UTF-8 and over-long lines", () => {
  assert.deepEqual(parseFrame({ line: new Uint8Array([0x7b, 0xff, 0x7d]) }, 10), {
    type: "invalid",
    reason: "utf8",
    message: "not valid UTF-8",
  });
  assert.deepEqual(parseFrame({ tooLong: 11 }, 10), {
    type: "invalid",
    reason: "too_long",
    message: "line of 11 bytes is longer than the limit of 10",
  });
  assert.deepEqual(parseFrame({ line: encoder.encode("DIE") }, 10), { type: "die" });
});
