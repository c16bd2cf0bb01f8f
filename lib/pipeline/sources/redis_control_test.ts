import assert from "node:assert/strict";
import { CONTROL_ECHO_BYTES, echoControlText, parseControlCommand } from "./redis_control.ts";

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

Deno.test("echoControlText() keeps a short text whole and cuts a long one on a character boundary, with its size", () => {
  assert.equal(echoControlText("signal SIGUSR1"), "signal SIGUSR1");
  const exact = "x".repeat(CONTROL_ECHO_BYTES);
  assert.equal(echoControlText(exact), exact);
  assert.equal(echoControlText(`${exact}y`), `${exact}… (${CONTROL_ECHO_BYTES + 1} bytes)`);
  // 3-byte characters: 85 fit in 256 bytes, the 86th would not.
  const euros = "€".repeat(1000);
  assert.equal(echoControlText(euros), `${"€".repeat(85)}… (3000 bytes)`);
  // 4-byte characters are never cut in half.
  const emoji = "😀".repeat(100);
  assert.equal(echoControlText(emoji), `${"😀".repeat(64)}… (400 bytes)`);
});

Deno.test("parseControlCommand() rejects a 10 MB command and echoes only its first 256 bytes", () => {
  const huge = "restart".repeat(1_500_000); // 10.5 MB, one word
  const parsed = parseControlCommand(["cmd", huge]);
  assert.ok("error" in parsed);
  assert.equal(parsed.error, "too long for a command: expected restart, stop or signal <NAME>");
  assert.equal(parsed.text, `${huge.slice(0, 256)}… (${huge.length} bytes)`);
  // An unknown verb is quoted whole only when the text is short.
  const long = parseControlCommand(["cmd", `signal ${"S".repeat(300)}`]);
  assert.ok("error" in long && long.error.length < 100, JSON.stringify(long).slice(0, 200));
});
