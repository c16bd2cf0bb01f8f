import assert from "node:assert/strict";
import { silentDebug } from "../../core/debug.ts";
import { now } from "../../core/event.ts";
import { openRecordingRedis, RecordingSinks } from "./recording_sinks.ts";

Deno.test("RecordingSinks: the recording's TEF events and its status reach trace.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await openRecordingRedis({ notice: () => {} }, silentDebug), undefined);
    const sinks = await RecordingSinks.open(undefined, {
      app: "demo",
      dir,
      name: "demo_1",
      debug: silentDebug,
    });
    sinks.tef([{ ph: "M", pid: 42, name: "process_name", args: { name: "demo-app" } }]);
    sinks.emit({
      kind: "status",
      time: now(),
      phase: "warning",
      message: "recording demo",
      fields: {},
    });
    sinks.emitToRedis({
      kind: "status",
      time: now(),
      phase: "warning",
      message: "nowhere",
      fields: {},
    });
    assert.equal(sinks.traceEvents, 0, "assembled at the close");
    assert.equal(await sinks.close(), undefined);
    assert.ok(sinks.traceEvents > 0);
    const text = await Deno.readTextFile(`${dir}/trace.json`);
    assert.match(text, /"demo-app"/);
    assert.match(text, /recording demo/);
    assert.doesNotMatch(text, /nowhere/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
