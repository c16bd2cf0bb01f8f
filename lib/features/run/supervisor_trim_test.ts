import assert from "node:assert/strict";
import { parseConfig } from "../../core/config/load_config.ts";
import { HeapTrimmer } from "../../core/heap_trimmer.ts";
import { MemorySink } from "../../pipeline/sinks/memory.ts";
import { Supervisor } from "./supervisor.ts";

/** Counts what touches it, and trims nothing. */
class CountingTrimmer extends HeapTrimmer {
  touches = 0;
  constructor() {
    super({ trim: () => false });
  }
  override touch(): void {
    this.touches++;
    super.touch();
  }
}

Deno.test("a run touches the heap trimmer it is given at each start and each delivered batch", async () => {
  const config = parseConfig(
    [
      "[app]",
      'executable = "/bin/sh"',
      `args = ["-c", "echo one; sleep 0.2; echo two; sleep 0.2; echo three"]`,
      'stream_name = "trimmed"',
      'cwd = "/tmp"',
      "[crash]",
      "ebpf_backtrace = false",
      "[local]",
      "enabled = false",
      "[output]",
      "echo = false",
    ].join("\n"),
    { file: "/tmp/wrapp-trim/trimmed.toml" },
  );
  const trimmer = new CountingTrimmer();
  const sink = new MemorySink();
  try {
    const result = await new Supervisor(config, {
      heapTrimmer: trimmer,
      extraSinks: [sink],
      handleSignals: false,
    }).run();
    assert.equal(result.exitCode, 0);
    const lines = sink.events.filter((event) => event.kind === "log").length;
    assert.equal(lines, 3);
    // One at the start, and one per batch: the three lines came 200 ms apart, three batches.
    assert.ok(trimmer.touches >= 4, `${trimmer.touches} touches`);
  } finally {
    trimmer.close();
  }
});
