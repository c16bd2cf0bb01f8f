import assert from "node:assert/strict";
import { SpoolSync } from "./spool_sync.ts";
import { silentDebug } from "../../core/debug.ts";

Deno.test("SpoolSync fsyncs what changed once its timer fires, and arms no timer once stopped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-spool-sync-" });
  try {
    const path = `${dir}/0000000000000001.jsonl`;
    await Deno.writeTextFile(path, "{}\n");
    const segment = { path };
    const sync = new SpoolSync<{ path: string }>(dir, 5, silentDebug, {
      isLive: () => true,
      tailFile: () => undefined,
    });
    sync.unsynced(segment);
    sync.dirDirty = true;
    sync.arm();
    while (sync.dirDirty) await new Promise((resolve) => setTimeout(resolve, 5));
    await sync.sync(); // the timer's own sync is done before this one starts
    sync.stop();
    sync.dirDirty = true;
    sync.arm(); // no timer: the test sanitizer fails the test on one left pending
    assert.equal(sync.dirDirty, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
