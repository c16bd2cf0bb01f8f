import assert from "node:assert/strict";
import { sendSignal } from "./send_signal.ts";

Deno.test("sendSignal() signals a process and its group, checks with 0, and throws like Deno.kill", async () => {
  const child = new Deno.Command("sleep", { args: ["30"], detached: true }).spawn();
  sendSignal(child.pid, 0);
  sendSignal(-child.pid, 0); // detached: the leader of its own group
  sendSignal(-child.pid, "SIGTERM");
  assert.equal((await child.status).signal, "SIGTERM");
  assert.throws(() => sendSignal(child.pid, 0), Deno.errors.NotFound);
  assert.throws(() => sendSignal(-child.pid, "SIGTERM"), Deno.errors.NotFound);
});
