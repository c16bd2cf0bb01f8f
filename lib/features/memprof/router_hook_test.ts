import assert from "node:assert/strict";
import { Router } from "../../pipeline/router.ts";
import { MemorySink } from "../../pipeline/sinks/memory.ts";
import { checkPerfettoRules } from "../../pipeline/tef/perfetto_rules.ts";
import type { TefEvent } from "../../core/event.ts";
import { memprofToRouter } from "./router_hook.ts";
import { STACKS } from "./_test_stacks.ts";

Deno.test("memprofToRouter() emits counters and the top allocation sites, rate-limited", async () => {
  const sink = new MemorySink();
  const router = new Router([sink]);
  const hook = memprofToRouter(router, { stream: "svc", pid: 4242, top: 2, everyMs: 5000 });
  const snapshot = {
    time: 1_700_000_000_000,
    stacks: STACKS,
    residentKb: 82020,
    cacheKb: 8192,
    process: { rssKb: 90000, anonKb: 83000, fileKb: 7000, shmemKb: 0, swapKb: 0 },
    final: false,
  };
  hook(snapshot);
  hook({ ...snapshot, time: snapshot.time + 1000 }); // too soon: skipped
  hook({ ...snapshot, time: snapshot.time + 2000, final: true }); // final: always
  await router.close();
  const events = sink.events as TefEvent[];
  assert.equal(events.length, 6);
  assert.ok(events.every((e) => e.kind === "tef" && e.stream === "svc"));
  const top = events[2].event as { name: string; args: { top: unknown[]; final: boolean } };
  assert.equal(top.name, "memprof top");
  assert.deepEqual(top.args.top, [
    {
      function: "alloc_a",
      executable: "app",
      offset: "00001007",
      category: "nodeCpp",
      kb: 65536,
      cacheKb: 0,
    },
    {
      function: "alloc_b",
      executable: "app",
      offset: "00001007",
      category: "nodeCpp",
      kb: 16384,
      cacheKb: 0,
    },
  ]);
  assert.equal((events[5].event as { args: { final: boolean } }).args.final, true);
  assert.deepEqual(checkPerfettoRules(events.map((e) => e.event)), []);
});
