import assert from "node:assert/strict";
import {
  describeExit,
  listenForForwardedSignals,
  parseSignalName,
  shellExitCode,
} from "./signals.ts";

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

Deno.test("listenForForwardedSignals hands each forwarded signal to its callback until stopped", async () => {
  const received: Deno.Signal[] = [];
  let heard: () => void = () => {};
  const stop = listenForForwardedSignals((signal) => {
    received.push(signal);
    heard();
  });
  try {
    for (const signal of ["SIGUSR2", "SIGHUP"] as const) {
      // A signal listener keeps no event loop alive: the timer does, and bounds the wait.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arrived = new Promise<void>((resolve, reject) => {
        heard = resolve;
        timer = setTimeout(() => reject(new Error(`${signal} never arrived`)), 5000);
      });
      Deno.kill(Deno.pid, signal); // the default action would end this test's process
      await arrived.finally(() => clearTimeout(timer));
    }
  } finally {
    stop();
  }
  assert.deepEqual(received, ["SIGUSR2", "SIGHUP"]);
});
