import assert from "node:assert/strict";
import { crashWatcherEngine } from "./crash_watcher_engine.ts";

Deno.test("crashWatcherEngine() reads $WRAPP_CRASH_WATCHER: native, bpftrace, else auto", () => {
  assert.equal(crashWatcherEngine("native"), "native");
  assert.equal(crashWatcherEngine("bpftrace"), "bpftrace");
  assert.equal(crashWatcherEngine(undefined), "auto");
  assert.equal(crashWatcherEngine("llvm"), "auto");
});
