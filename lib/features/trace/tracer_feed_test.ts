import assert from "node:assert/strict";
import { TracerFeed } from "./tracer_feed.ts";
import type { SyscallTracer } from "../../pipeline/syscalls/syscall_tracer.ts";

Deno.test("TracerFeed names an attached process from /proc, counts its threads, and completes", async () => {
  const proc = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${proc}/77/task/77`, { recursive: true });
    await Deno.mkdir(`${proc}/77/task/78`);
    await Deno.writeTextFile(`${proc}/77/cmdline`, "/usr/bin/robot\0--fast\0");
    const feed = new TracerFeed({
      arch: "x86_64",
      pid: 0,
      command: "",
      source: "bpftrace 0.17.0",
      procDir: proc,
    });
    assert.equal(feed.header().state, "starting");
    await feed.attach({ latest: undefined } as unknown as SyscallTracer, 77);
    const header = feed.header();
    assert.equal(header.state, "tracing");
    assert.equal(header.pid, 77);
    assert.equal(header.command, "/usr/bin/robot --fast");
    assert.equal(header.threads, 2);
    feed.onEvent({
      kind: "syscall",
      time: 1,
      scope: "interval",
      pid: 77,
      startTime: 0,
      calls: 0,
      errors: 0,
      totalNs: 0,
      rows: [],
      lostEvents: 4,
    });
    assert.equal(feed.header().lostEvents, 4);
    feed.complete("the process exited");
    assert.deepEqual(
      [feed.header().state, feed.header().exit, feed.header().threads],
      ["complete", "the process exited", 0],
    );
  } finally {
    await Deno.remove(proc, { recursive: true });
  }
});
