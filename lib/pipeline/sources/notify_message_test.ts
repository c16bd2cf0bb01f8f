import assert from "node:assert/strict";
import { parseNotifyMessage } from "./notify_message.ts";

Deno.test("parseNotifyMessage() reads READY=1 and STATUS= from one datagram", () => {
  const message = parseNotifyMessage("READY=1\nSTATUS=Listening on :8080");
  assert.equal(message.ready, true);
  assert.equal(message.status, "Listening on :8080");
  assert.deepEqual(message.fields, { READY: "1", STATUS: "Listening on :8080" });
  assert.deepEqual(message.invalid, []);
});

Deno.test("parseNotifyMessage() tells a watchdog ping from a trigger", () => {
  assert.equal(parseNotifyMessage("WATCHDOG=1").watchdog, "ping");
  assert.equal(parseNotifyMessage("WATCHDOG=trigger").watchdog, "trigger");
  assert.equal(parseNotifyMessage("WATCHDOG=0").watchdog, undefined);
});

Deno.test("parseNotifyMessage() reads the numbers systemd knows, and ignores malformed ones", () => {
  const message = parseNotifyMessage(
    "WATCHDOG_USEC=20000000\nMAINPID=4242\nERRNO=2\nEXTEND_TIMEOUT_USEC=5000000",
  );
  assert.equal(message.watchdogUsec, 20_000_000);
  assert.equal(message.mainPid, 4242);
  assert.equal(message.errno, 2);
  assert.equal(message.extendTimeoutUsec, 5_000_000);
  const bad = parseNotifyMessage("WATCHDOG_USEC=soon\nMAINPID=-1\nMAINPID=0\nREADY=yes");
  assert.equal(bad.watchdogUsec, undefined);
  assert.equal(bad.mainPid, undefined);
  assert.equal(bad.ready, undefined);
  assert.equal(bad.fields.WATCHDOG_USEC, "soon");
});

Deno.test("parseNotifyMessage() keeps STOPPING=1, RELOADING=1, BARRIER=1 and unknown names", () => {
  const message = parseNotifyMessage("STOPPING=1\nRELOADING=1\nBARRIER=1\nX_MY_FIELD=a=b");
  assert.equal(message.stopping, true);
  assert.equal(message.reloading, true);
  assert.equal(message.barrier, true);
  assert.equal(message.fields.X_MY_FIELD, "a=b");
});

Deno.test("parseNotifyMessage() lists lines that are not assignments, and skips empty ones", () => {
  const message = parseNotifyMessage("\nhello\n=1\nlower=1\nREADY=1\n");
  assert.deepEqual(message.invalid, ["hello", "=1", "lower=1"]);
  assert.equal(message.ready, true);
});

Deno.test("parseNotifyMessage() keeps a STATUS= with '=' and spaces whole, the last one winning", () => {
  const message = parseNotifyMessage("STATUS=a = b\nSTATUS=  second  ");
  assert.equal(message.status, "  second  ");
});

Deno.test("parseNotifyMessage() of an empty datagram sets nothing", () => {
  assert.deepEqual(parseNotifyMessage(""), { fields: {}, invalid: [] });
});
