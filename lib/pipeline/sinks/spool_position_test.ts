import assert from "node:assert/strict";
import { SpoolPosition } from "./spool_position.ts";
import { ACK_FILE, type SpoolSegment } from "./spool_files.ts";

function _segment(id: number, acked: number): SpoolSegment<unknown> {
  return { id, path: `${id}.jsonl`, bytes: 10, count: 5, acked, reading: false };
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("SpoolPosition writes the head's position, and removes the file once the head has nothing acknowledged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-spool-position-test-" });
  try {
    const path = `${dir}/${ACK_FILE}`;
    const position = new SpoolPosition(dir, false, () => {});
    position.save(_segment(7, 2));
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { segment: 7, acked: 2 });
    position.save(_segment(8, 0));
    assert.equal(await _exists(path), false);
    position.save(undefined); // nothing saved, nothing to remove
    assert.equal(await _exists(path), false);
    // A recovered position (saved = true) is removed when the head is no longer acknowledged.
    await Deno.writeTextFile(path, JSON.stringify({ segment: 7, acked: 1 }));
    new SpoolPosition(dir, true, () => {}).save(undefined);
    assert.equal(await _exists(path), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SpoolPosition that cannot write its file says so in the debug log and does not throw", async () => {
  const file = await Deno.makeTempFile({ prefix: "wrapp-spool-position-test-" });
  try {
    const said: string[] = [];
    // A file where the folder should be: ENOTDIR, not NotFound (a folder removed meanwhile is not told).
    new SpoolPosition(file, false, (message) => said.push(message)).save(_segment(7, 2));
    assert.equal(said.length, 1);
    assert.ok(said[0].startsWith(`spool ${file}: cannot save the ack position: `), said[0]);
  } finally {
    await Deno.remove(file);
  }
});
