import assert from "node:assert/strict";
import { compareEntryIds, formatLogEntry } from "./log_entry.ts";

Deno.test("formatLogEntry(): time, stream and message; stderr lines of the go layout shown as error", () => {
  const ts = String(Date.UTC(2024, 5, 10, 12, 0, 1));
  assert.equal(
    formatLogEntry("info", "1-0", ["ts", ts, "message", "hello"], false),
    "2024-06-10T12:00:01.000Z info   hello",
  );
  assert.equal(
    formatLogEntry("info", "1-0", ["ts", ts, "output", "stderr", "message", "oops"], false),
    "2024-06-10T12:00:01.000Z error  oops",
  );
  // Without ts, the entry id's milliseconds; `msg` of older entries.
  assert.equal(
    formatLogEntry("crash", `${ts}-3`, ["msg", "old"], false),
    "2024-06-10T12:00:01.000Z crash  old",
  );
  assert.deepEqual(
    JSON.parse(formatLogEntry("status", "5-1", ["message", "up", "ts", "5"], true)),
    { id: "5-1", stream: "status", message: "up", ts: "5" },
  );
});

Deno.test("compareEntryIds(): by milliseconds, then by sequence", () => {
  const ids = ["20-0", "3-5", "3-10", "100-0"];
  assert.deepEqual(ids.sort(compareEntryIds), ["3-5", "3-10", "20-0", "100-0"]);
});
