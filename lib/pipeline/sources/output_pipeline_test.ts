import assert from "node:assert/strict";
import type { Event, LogEvent } from "../../core/event.ts";
import type { OutputConfig } from "../../core/config/config.ts";
import { OutputPipeline, pumpOutput } from "./output_pipeline.ts";

function _output(timeoutMs: number): OutputConfig {
  return {
    echo: false,
    maxLineBytes: 65536,
    multilineStart: ">>|",
    multilineEnd: "|<<",
    multilineMaxLines: 1000,
    multilineMaxBytes: 1048576,
    multilineTimeoutMs: timeoutMs,
    markers: false,
  };
}

function _pipeline(timeoutMs: number): { pipeline: OutputPipeline; events: Event[] } {
  const events: Event[] = [];
  const pipeline = new OutputPipeline("stdout", {
    output: _output(timeoutMs),
    target: { emitAll: (batch) => events.push(...batch) },
  });
  return { pipeline, events };
}

const _bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("OutputPipeline arms no timer while no multi-line block is open", () => {
  const { pipeline, events } = _pipeline(50);
  assert.equal(pipeline.armed, false);
  pipeline.push(_bytes("one\ntwo\n>>| block |<<\n"));
  assert.equal(pipeline.armed, false);
  assert.equal(events.length, 3);
  pipeline.end();
});

Deno.test("OutputPipeline flushes an open block at its time limit by itself, then disarms", async () => {
  const { pipeline, events } = _pipeline(50);
  // The limit counts from when the block's first line was read: before push() returns.
  const started = performance.now();
  pipeline.push(_bytes(">>|\nfirst\n"));
  assert.equal(pipeline.armed, true);
  assert.equal(events.length, 0);
  while (events.length === 0 && performance.now() - started < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal((events[0] as LogEvent).unterminated, "time");
  assert.equal((events[0] as LogEvent).text, "first");
  assert.ok(performance.now() - started >= 40, "flushed before its time limit");
  assert.equal(pipeline.armed, false);
  pipeline.end();
});

Deno.test("OutputPipeline disarms when the block closes and when the stream ends", () => {
  const { pipeline, events } = _pipeline(60_000);
  pipeline.push(_bytes(">>|\na\n"));
  assert.equal(pipeline.armed, true);
  pipeline.push(_bytes("b |<<\n"));
  assert.equal(pipeline.armed, false);
  assert.equal((events[0] as LogEvent).text, "a\nb ");
  pipeline.push(_bytes(">>|\nc\n"));
  assert.equal(pipeline.armed, true);
  pipeline.end(); // the test's leak check fails if a timer survives this
  assert.equal(pipeline.armed, false);
  assert.equal((events[1] as LogEvent).unterminated, "exit");
});

Deno.test("pumpOutput() reads a byte stream into one buffer, and the echo keeps what each read got", async () => {
  const chunks = ["one\ntw", "o\nthree\n", "four"];
  const readable = new ReadableStream({
    type: "bytes",
    pull(controller: ReadableByteStreamController) {
      const next = chunks.shift();
      if (next === undefined) {
        controller.close();
        controller.byobRequest?.respond(0); // a pending BYOB read learns of the end (as Deno's pipes do)
      } else controller.enqueue(_bytes(next));
    },
  });
  const { pipeline, events } = _pipeline(60_000);
  const echoed: Uint8Array[] = [];
  await pumpOutput(readable, pipeline, { echo: { write: (chunk) => echoed.push(chunk) } });
  assert.deepEqual(events.map((event) => (event as LogEvent).text), [
    "one",
    "two",
    "three",
    "four",
  ]);
  // Written only now: each chunk is its own copy, not the buffer read into again.
  assert.deepEqual(echoed.map((chunk) => new TextDecoder().decode(chunk)), [
    "one\ntw",
    "o\nthree\n",
    "four",
  ]);
});

Deno.test("pumpOutput() reads a stream of chunks that is not a byte stream", async () => {
  const readable = ReadableStream.from([_bytes("a\nb"), _bytes("\n")]);
  const { pipeline, events } = _pipeline(60_000);
  const echoed: Uint8Array[] = [];
  await pumpOutput(readable, pipeline, { echo: { write: (chunk) => echoed.push(chunk) } });
  assert.deepEqual(events.map((event) => (event as LogEvent).text), ["a", "b"]);
  assert.equal(echoed.length, 2);
});
