import assert from "node:assert/strict";
import { DeliveryLedger, formatRanges, LEDGER_FILE, parseLedger } from "./delivery_ledger.ts";

Deno.test("DeliveryLedger holds what only memory has and releases it in any order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = DeliveryLedger.open(dir);
    assert.deepEqual(ledger.lost, []);
    assert.deepEqual(ledger.nextHeld(10), 1);
    assert.deepEqual(ledger.next(5), 11); // spooled: numbered, not held
    assert.deepEqual(ledger.nextHeld(5), 16);
    assert.deepEqual(formatRanges(ledger.held), "1-10,16-20");
    ledger.release([1, 2, 3]);
    ledger.release([5, 6, 17]); // a hole inside a range splits it
    assert.deepEqual(formatRanges(ledger.held), "4-4,7-10,16-16,18-20");
    assert.deepEqual(ledger.heldCount, 9);
    ledger.release([4, 7, 8, 9, 10, 16, 18, 19, 20, 99, undefined]);
    assert.deepEqual(ledger.held, []);
    await ledger.close();
    const text = await Deno.readTextFile(`${dir}/${LEDGER_FILE}`);
    assert.deepEqual(parseLedger(text), { accepted: 20, held: [] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger: the next process sees, without any close or fsync, what the last one held", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const killed = DeliveryLedger.open(dir);
    killed.nextHeld(1000);
    killed.release(Array.from({ length: 400 }, (_, i) => i + 1));
    killed.nextHeld(3);
    // No close(): the file is what a kill -9 leaves in the page cache.
    const next = DeliveryLedger.open(dir);
    assert.deepEqual(next.lost, [[401, 1003]]);
    assert.equal(next.accepted, 1003);
    assert.equal(next.nextHeld(1), 1004, "numbering continues");
    next.reportedAs(1004); // the report waits in memory: killed again before it is safe
    const third = DeliveryLedger.open(dir);
    assert.deepEqual(third.lost, [[401, 1004]], "the unreported loss, and the report itself");
    third.reportedAs(third.nextHeld(1));
    third.release([1005]); // the report is safe: the loss leaves the ledger
    const fourth = DeliveryLedger.open(dir);
    assert.deepEqual(fourth.lost, []);
    assert.equal(fourth.accepted, 1005);
    await Promise.all([next.close(), third.close(), fourth.close()]);
    await killed.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger: a shorter state overwrites a longer one in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = DeliveryLedger.open(dir);
    ledger.nextHeld(9);
    ledger.release([2, 4, 6, 8]);
    ledger.release([1, 3, 5, 7, 9]);
    const text = await Deno.readTextFile(`${dir}/${LEDGER_FILE}`);
    assert.deepEqual(parseLedger(text), { accepted: 9, held: [] });
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger: an unreadable ledger is said, and numbering restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/${LEDGER_FILE}`, "garbage\n");
    const ledger = DeliveryLedger.open(dir);
    assert.deepEqual(ledger.accepted, 0);
    assert.deepEqual(typeof ledger.unreadable, "string");
    await ledger.close();
    assert.throws(() => parseLedger("wrapp delivery ledger 1\naccepted x\nheld -\n"), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger without a folder numbers from 1 and writes nothing", async () => {
  const ledger = DeliveryLedger.open(undefined);
  assert.deepEqual(ledger.nextHeld(2), 1);
  assert.deepEqual(ledger.next(1), 3);
  assert.deepEqual(ledger.path, undefined);
  await ledger.close();
});

Deno.test("DeliveryLedger: the batch being sent at the end is reported as possibly delivered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const killed = DeliveryLedger.open(dir);
    killed.nextHeld(100);
    killed.sending([1, 40]);
    killed.release(Array.from({ length: 10 }, (_, i) => i + 1)); // acknowledged early by a retry path
    const next = DeliveryLedger.open(dir);
    assert.deepEqual(next.lost, [[11, 100]]);
    assert.deepEqual(next.lostSending, [11, 40]);
    next.sending([101, 101]);
    next.sending(undefined);
    const third = DeliveryLedger.open(dir);
    assert.equal(third.lostSending, undefined);
    await Promise.all([killed.close(), next.close(), third.close()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger: a deferred hold reaches the file with the next change or flush()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = DeliveryLedger.open(dir);
    const state = () => parseLedger(Deno.readTextFileSync(`${dir}/${LEDGER_FILE}`));
    ledger.nextHeld(2, { defer: true });
    assert.deepEqual(state(), { accepted: 0, held: [] }, "not written yet");
    ledger.sending([1, 2]); // the change that follows writes both
    assert.deepEqual(state(), { accepted: 2, held: [[1, 2]], sending: [1, 2] });
    ledger.nextHeld(1, { defer: true });
    ledger.flush();
    assert.deepEqual(state(), { accepted: 3, held: [[1, 3]], sending: [1, 2] });
    ledger.flush(); // nothing pending: nothing to do
    assert.deepEqual(state(), { accepted: 3, held: [[1, 3]], sending: [1, 2] });
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger.sent() ends the batch being sent and releases what was delivered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = DeliveryLedger.open(dir);
    const state = () => parseLedger(Deno.readTextFileSync(`${dir}/${LEDGER_FILE}`));
    ledger.nextHeld(5);
    ledger.sending([1, 5]);
    ledger.sent([1, 2, 3]); // the rest failed: held, no longer being sent
    assert.deepEqual(state(), { accepted: 5, held: [[4, 5]] });
    ledger.sending([4, 5]);
    ledger.sent([]); // nothing delivered: still held
    assert.deepEqual(state(), { accepted: 5, held: [[4, 5]] });
    assert.equal(formatRanges(ledger.held), "4-5");
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger.sent({ lazy }) reaches the file with the next change or within the fsync interval", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = DeliveryLedger.open(dir, { syncIntervalMs: 50 });
    const state = () => parseLedger(Deno.readTextFileSync(`${dir}/${LEDGER_FILE}`));
    ledger.nextHeld(2);
    ledger.sending([1, 2]);
    ledger.sent([1, 2], { lazy: true });
    // Not written yet: a kill -9 now would report 1-2 as possibly delivered, never less.
    assert.deepEqual(state(), { accepted: 2, held: [[1, 2]], sending: [1, 2] });
    ledger.flush(); // flush() is for holds, which must be written before any wait
    assert.deepEqual(state(), { accepted: 2, held: [[1, 2]], sending: [1, 2] });
    ledger.nextHeld(1, { defer: true });
    ledger.sending([3, 3]); // the next batch's write carries the release
    assert.deepEqual(state(), { accepted: 3, held: [[3, 3]], sending: [3, 3] });
    ledger.sent([3], { lazy: true });
    const deadline = Date.now() + 10_000;
    while (state().held.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(state(), { accepted: 3, held: [] }, "the fsync timer wrote it");
    await ledger.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DeliveryLedger writes its state as the text it documents, numbers past 2^32 included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/${LEDGER_FILE}`;
    const earlier = DeliveryLedger.open(dir);
    earlier.next(2 ** 33 - 1); // a long-lived robot's numbering: past what int32 digits hold
    earlier.nextHeld(10);
    earlier.release([2 ** 33 + 3]); // killed with a hole in what it held: lost as two ranges
    const ledger = DeliveryLedger.open(dir);
    ledger.nextHeld(7);
    ledger.release([2 ** 33 + 12]);
    ledger.sending([2 ** 33 + 10, 2 ** 33 + 11]);
    const expected = "wrapp delivery ledger 1\n" +
      `accepted ${2 ** 33 + 16}\n` +
      `held ${2 ** 33 + 10}-${2 ** 33 + 11},${2 ** 33 + 13}-${2 ** 33 + 16}\n` +
      `sending ${2 ** 33 + 10}-${2 ** 33 + 11}\n` +
      `unreported ${2 ** 33}-${2 ** 33 + 2},${2 ** 33 + 4}-${2 ** 33 + 9}\n`;
    assert.equal(Deno.readTextFileSync(path), expected);
    ledger.sent([2 ** 33 + 10, 2 ** 33 + 11]); // shorter: padded with spaces, not truncated
    const shorter = Deno.readTextFileSync(path);
    assert.equal(shorter.length, expected.length);
    assert.match(shorter, /\nsending -\n.* +$/s);
    assert.deepEqual(parseLedger(shorter).held, [[2 ** 33 + 13, 2 ** 33 + 16]]);
    await Promise.all([earlier.close(), ledger.close()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
