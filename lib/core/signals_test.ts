import assert from "node:assert/strict";
import { describeExit, parseSignalName, shellExitCode } from "./signals.ts";

Deno.test("shellExitCode() returns the code, or 128 + signal number like a shell", () => {
  assert.equal(shellExitCode({ code: 0 }), 0);
  assert.equal(shellExitCode({ code: 3 }), 3);
  assert.equal(shellExitCode({ signal: "SIGTERM" }), 143);
  assert.equal(shellExitCode({ signal: "SIGKILL" }), 137);
  assert.equal(shellExitCode({ signal: "SIGSEGV" }), 139);
});

Deno.test("describeExit() names the code or the signal", () => {
  assert.equal(describeExit({ code: 2 }), "exit code 2");
  assert.equal(describeExit({ signal: "SIGABRT" }), "signal SIGABRT");
});

Deno.test("parseSignalName() accepts names with or without SIG, any case, and numbers", () => {
  assert.equal(parseSignalName("term"), "SIGTERM");
  assert.equal(parseSignalName("SIGUSR1"), "SIGUSR1");
  assert.equal(parseSignalName("9"), "SIGKILL");
  assert.equal(parseSignalName("NOPE"), undefined);
  assert.equal(parseSignalName("99"), undefined);
});
