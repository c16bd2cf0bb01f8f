import assert from "node:assert/strict";
import { type FatalSignalRecord, FatalSignalRecords } from "./fatal_signal_records.ts";

const record = (pid: number, signal: number, tid = pid): FatalSignalRecord => ({
  pid,
  tid,
  signal,
  result: 0,
  addresses: [],
  frames: Promise.resolve([]),
});

Deno.test("FatalSignalRecords.find() takes the process's last record of the signal, else its last", () => {
  const records = new FatalSignalRecords();
  const first = record(10, 11, 1), second = record(10, 11, 2), abort = record(10, 6, 3);
  for (const r of [first, record(20, 11), second, abort]) records.add(r);
  assert.equal(records.find(10, 11), second);
  assert.equal(records.find(10, 7), abort);
  assert.equal(records.find(30, 11), undefined);
});

Deno.test("FatalSignalRecords keeps the last 64", () => {
  const records = new FatalSignalRecords();
  for (let pid = 1; pid <= 70; pid++) records.add(record(pid, 11));
  assert.equal(records.list.length, 64);
  assert.equal(records.list[0].pid, 7);
  assert.equal(records.list.at(-1)?.pid, 70);
});

Deno.test("FatalSignalRecords.waitFor() resolves when the record arrives, and when closed", async () => {
  const records = new FatalSignalRecords();
  const waiting = records.waitFor(10, 11, 3_600_000);
  records.add(record(20, 11));
  const late = record(10, 11);
  records.add(late);
  assert.equal(await waiting, late);
  assert.equal(await records.waitFor(30, 11, 0), undefined);
  const closed = records.waitFor(30, 11, 3_600_000);
  records.close();
  assert.equal(await closed, undefined);
  records.add(record(30, 11));
  assert.equal((await records.waitFor(30, 11, 3_600_000))?.pid, 30, "records still come");
});
