import assert from "node:assert/strict";
import { encodeEvent, type Event, type StatusEvent } from "../../../core/event.ts";
import { goRunStamp } from "../go_layout.ts";
import { type RedisCommand, type RedisEncoderOptions, redisEncoders, redisKeys } from "../redis.ts";

const TIME = new Date(2026, 11, 5, 13, 18, 15).getTime() + 0.5;
const RECORD = { run: "run-1", pid: 42, event: undefined as unknown as Event };

function encode(
  event: Event,
  options: Partial<RedisEncoderOptions> = {},
  record: { run: string; pid: number } = RECORD,
): RedisCommand[] {
  const encoders = redisEncoders(redisKeys("svc"), {
    maxLen: 1000,
    hostname: "box",
    version: "1.2.3",
    ...options,
  });
  return encodeEvent(encoders, event)({ ...record, event });
}

/** The stream entries among `commands`: [key, fields]. */
function entries(commands: RedisCommand[]): [string, Record<string, string>][] {
  return commands.filter(([, command]) => command === "XADD").map(([db, , key, ...args]) => {
    assert.equal(db, "logs");
    assert.deepEqual(args.slice(0, 4), ["MAXLEN", "~", "1000", "*"]);
    const fields: Record<string, string> = {};
    // As on the wire: a number is its decimal digits.
    for (let i = 4; i < args.length; i += 2) fields[String(args[i])] = String(args[i + 1]);
    return [String(key), fields];
  });
}

const base = { ts: String(Math.floor(TIME)), run: "run-1", pid: "42", host: "box" };
const go = { layout: "go" } as const;
const start: StatusEvent = {
  kind: "status",
  phase: "start",
  message: "started svc (pid 7)",
  fields: { run: "run-1", pid: 7, host: "box", restarts: 0, command: "/svc" },
  time: TIME,
};
const exit = (fields: StatusEvent["fields"]): StatusEvent => ({
  kind: "status",
  phase: "exit",
  message: "svc ended",
  fields: { run: "run-1", pid: 7, ...fields },
  time: TIME + 2000,
});

Deno.test("redisEncoders() wrapp layout: lines as printed, stderr in :error, field message", () => {
  assert.deepEqual(
    entries(encode({ kind: "log", stream: "stdout", text: "  a {{x}} ", time: TIME })),
    [["logs:app:svc:info", { message: "  a {{x}} ", ...base }]],
  );
  assert.deepEqual(
    entries(encode({ kind: "log", stream: "stderr", text: "", time: TIME })),
    [["logs:app:svc:error", { message: "", ...base }]],
  );
});

Deno.test("redisEncoders() go layout: stderr in :info, markers removed, trimmed, empty lines dropped", () => {
  assert.deepEqual(
    entries(
      encode({ kind: "log", stream: "stdout", text: "hello {{cnt}} world ", time: TIME }, go),
    ),
    [["logs:app:svc:info", { message: "hello  world", ...base }]],
  );
  assert.deepEqual(
    entries(encode({ kind: "log", stream: "stderr", text: " oops {{e}}", time: TIME }, go)),
    [["logs:app:svc:info", { message: "oops", ...base, output: "stderr" }]],
  );
  assert.deepEqual(
    entries(
      encode({
        kind: "log",
        stream: "stdout",
        text: "  one\n  two\n",
        time: TIME,
        lines: 4,
        unterminated: "exit",
      }, go),
    ),
    [["logs:app:svc:info", { message: "one\n  two", ...base, lines: "4", unterminated: "exit" }]],
  );
  for (const text of ["", "   ", "{{x}}", " {{a}} {{b:1}} "]) {
    assert.deepEqual(encode({ kind: "log", stream: "stdout", text, time: TIME }, go), [], text);
  }
  assert.deepEqual(
    entries(
      encode({ kind: "log", stream: "stdout", text: " {{x}} ", time: TIME }, {
        ...go,
        removeMarkers: false,
      }),
    ),
    [["logs:app:svc:info", { message: "{{x}}", ...base }]],
  );
});

Deno.test("redisEncoders() go layout: a start writes Go's separator to :info and :status, ours in detail", () => {
  const commands = encode(start, go, { run: "run-1", pid: 0 });
  const stamp = goRunStamp(TIME);
  const own = { ts: base.ts, run: "run-1", pid: "7", host: "box" };
  assert.deepEqual(entries(commands), [
    ["logs:app:svc:info", { message: `{{__NEW_RUN_${stamp}}}`, ...own, separator: "new_run" }],
    ["logs:app:svc:status", {
      message: `{{__NEW_RUN_${stamp}}}`,
      ...own,
      separator: "new_run",
      phase: "start",
      detail: "started svc (pid 7)",
      restarts: "0",
      command: "/svc",
    }],
  ]);
  assert.equal(commands.at(-1)![1], "HSET", "the state hash as in the wrapp layout");
});

Deno.test("redisEncoders() go layout: an exit writes the exit line, then the end separator", () => {
  const stamp = goRunStamp(TIME + 2000);
  const own = { ts: String(Math.floor(TIME + 2000)), run: "run-1", pid: "7", host: "box" };
  const commands = encode(exit({ exit_code: 3, duration_ms: 2000 }), go);
  assert.deepEqual(entries(commands), [
    ["logs:app:svc:status", {
      message: "Executable exited with code 3.",
      ...own,
      phase: "exit",
      detail: "svc ended",
      exit_code: "3",
      duration_ms: "2000",
    }],
    ["logs:app:svc:status", {
      message: `{{__END_RUN_${stamp}_exit_3}}`,
      ...own,
      separator: "end_run",
    }],
    ["logs:app:svc:info", {
      message: `{{__END_RUN_${stamp}_exit_3}}`,
      ...own,
      separator: "end_run",
    }],
  ]);
  const killed = entries(encode(exit({ signal: "SIGKILL" }), go)).map(([, f]) => f.message);
  assert.deepEqual(killed, [
    "Executable exited with code -1.",
    `{{__END_RUN_${stamp}_exit_-1}}`,
    `{{__END_RUN_${stamp}_exit_-1}}`,
  ]);
});

Deno.test("redisEncoders() go layout: other status events are plain entries, as in the wrapp layout", () => {
  const noRun = exit({});
  const restart: StatusEvent = { ...start, phase: "restart", message: "restarting svc" };
  for (const event of [noRun, restart]) {
    assert.deepEqual(encode(event, go), encode(event), event.message);
    assert.deepEqual(entries(encode(event, go)).map(([key, f]) => [key, f.message, f.phase]), [
      ["logs:app:svc:status", event.message, event.phase],
    ]);
  }
});

Deno.test("redisEncoders() wrapp layout: start and exit are one status entry each, no separators", () => {
  assert.deepEqual(entries(encode(start)).map(([key, f]) => [key, f.message, f.pid]), [
    ["logs:app:svc:status", "started svc (pid 7)", "7"],
  ]);
  assert.deepEqual(entries(encode(exit({ exit_code: 3 }))).map(([key, f]) => [key, f.message]), [
    ["logs:app:svc:status", "svc ended"],
  ]);
});

Deno.test("redisEncoders() renames status fields that would shadow an entry's own", () => {
  const event: StatusEvent = {
    ...start,
    phase: "info",
    fields: { message: "m", detail: "d", separator: "s", output: "x", ts: 1 },
  };
  const [[, fields]] = entries(encode(event, go));
  assert.deepEqual(
    [fields.field_message, fields.field_detail, fields.field_separator, fields.field_output],
    ["m", "d", "s", "x"],
  );
  assert.equal(fields.message, start.message);
});

Deno.test("redisEncoders(): a STATUS= text sets status_text in the state hash, a new run clears it", () => {
  const status: StatusEvent = {
    kind: "status",
    phase: "info",
    message: "svc status: serving",
    fields: { run: "run-1", pid: 7, notify: "STATUS", status_text: "serving" },
    time: TIME,
  };
  const commands = encode(status);
  assert.deepEqual(entries(commands).map(([key, fields]) => [key, fields.status_text]), [
    ["logs:app:svc:status", "serving"],
  ]);
  assert.deepEqual(commands.at(-1), ["state", "HSET", "wrapp:svc:state", "status_text", "serving"]);
  for (const layout of ["wrapp", "go"] as const) {
    const started = encode(start, { layout });
    assert.deepEqual(
      started.filter(([db]) => db === "state").map((
        [, command, , ...fields],
      ) => [command, fields[0]]),
      [["HDEL", "status_text"], ["HSET", "pid"]],
      layout,
    );
  }
});
