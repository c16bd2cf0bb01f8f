import assert from "node:assert/strict";
import { debugfsResult } from "./debugfs_check.ts";

Deno.test("debugfsResult(): mounted, not needed beside tracefs, or a warning without either", () => {
  const debugfs = { device: "debugfs", dir: "/sys/kernel/debug", type: "debugfs" };
  assert.equal(debugfsResult([debugfs], undefined).message, "debugfs at /sys/kernel/debug");
  const unneeded = debugfsResult([], "/sys/kernel/tracing");
  assert.equal(unneeded.status, "ok");
  assert.match(unneeded.message, /not needed: tracefs is at \/sys\/kernel\/tracing/);
  const neither = debugfsResult([], undefined);
  assert.equal(neither.status, "warning");
  assert.equal(neither.fix, "mount -t debugfs nodev /sys/kernel/debug");
});
