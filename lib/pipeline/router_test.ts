import assert from "node:assert/strict";
import { Router } from "./router.ts";
import { MemorySink } from "./sinks/memory.ts";
import type { Event } from "../core/event.ts";

const line = (text: string): Event => ({ kind: "log", stream: "stdout", text, time: 1 });

Deno.test("Router delivers every event to every sink in order", async () => {
  const a = new MemorySink();
  const b = new MemorySink();
  const router = new Router([a, b], { batchSize: 3 });
  for (let i = 0; i < 10; i++) router.emit(line(`l${i}`));
  await router.flush();
  const texts = (sink: MemorySink) => sink.events.map((e) => e.kind === "log" ? e.text : "");
  assert.deepEqual(texts(a), Array.from({ length: 10 }, (_, i) => `l${i}`));
  assert.deepEqual(texts(b), texts(a));
  await router.close();
});

Deno.test("Router hands a partial batch to sinks after the flush interval", async () => {
  const sink = new MemorySink();
  const router = new Router([sink], { batchSize: 1000, flushIntervalMs: 10 });
  router.emit(line("x"));
  assert.equal(sink.events.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(sink.events.length, 1);
  await router.close();
});

Deno.test("Router keeps delivering to healthy sinks when one sink throws", async () => {
  const good = new MemorySink();
  const bad = new MemorySink();
  bad.write = () => {
    throw new Error("boom");
  };
  const messages: string[] = [];
  const router = new Router([bad, good], { debug: (m) => messages.push(m) });
  router.emit(line("a"));
  await router.close();
  assert.equal(good.events.length, 1);
  assert.match(messages[0], /sink "memory" threw on write: Error: boom/);
});

Deno.test("Router refuses events after close", async () => {
  const router = new Router([new MemorySink()]);
  await router.close();
  assert.throws(() => router.emit(line("late")), /Router is closed/);
});

Deno.test("Router by default hands what one task emitted to the sinks as one batch, right after it", async () => {
  const sink = new MemorySink();
  const router = new Router([sink]);
  for (let i = 0; i < 5; i++) router.emit(line(`line ${i}`));
  assert.equal(sink.events.length, 0, "not before the emitting code is done");
  await Promise.resolve();
  assert.equal(sink.events.length, 5, "delivered in a microtask, no timer");
  assert.equal(sink.stats().received, 5);
  await router.close();
});
