import assert from "node:assert/strict";
import { parseControlCommand } from "./redis_control.ts";

Deno.test("parseControlCommand() reads restart, stop and signal from the cmd field", () => {
  assert.deepEqual(parseControlCommand(["cmd", "restart"]), {
    command: { kind: "restart" },
    text: "restart",
  });
  assert.deepEqual(parseControlCommand(["command", " STOP "]), {
    command: { kind: "stop" },
    text: "STOP",
  });
  assert.deepEqual(parseControlCommand(["cmd", "signal usr1"]), {
    command: { kind: "signal", signal: "SIGUSR1" },
    text: "signal usr1",
  });
});

Deno.test("parseControlCommand() accepts an entry whose only field is the command", () => {
  assert.deepEqual(parseControlCommand(["restart", ""]), {
    command: { kind: "restart" },
    text: "restart",
  });
});

Deno.test("parseControlCommand() rejects anything else with a reason", () => {
  const error = (fields: string[]) => {
    const parsed = parseControlCommand(fields);
    return "error" in parsed ? parsed.error : "accepted";
  };
  assert.equal(
    error(["cmd", "reboot"]),
    'unknown command "reboot": expected restart, stop or signal <NAME>',
  );
  assert.equal(error(["cmd", "signal"]), 'usage: "signal <NAME>", e.g. "signal SIGUSR1"');
  assert.equal(error(["cmd", "signal SIGNOPE"]), 'unknown signal "SIGNOPE"');
  assert.equal(error(["cmd", "signal KILL"]), 'SIGKILL is not allowed: use "stop"');
  assert.equal(error(["cmd", "restart now"]), '"restart" takes no argument');
  assert.equal(
    error(["a", "1", "b", "2"]),
    'no command: send a "cmd" field with restart, stop or signal <NAME>',
  );
});
