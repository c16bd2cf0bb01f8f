import assert from "node:assert/strict";
import { UsageError } from "../core/errors.ts";
import { parseTraceArgs, traceCommand } from "./trace_command.ts";
import { TRACE_HELP } from "./trace_help.ts";

Deno.test("parseTraceArgs() reads --pid mode with every option", () => {
  const args = parseTraceArgs([
    "--pid",
    "4242",
    "-c",
    "--json",
    "-o",
    "out.json",
    "--filter",
    "file,net",
    "--filter=getpid",
    "--duration",
    "1m30s",
    "--threshold",
    "2.5",
    "--slow",
    "50ms",
    "--floor",
    "200us",
    "--per-thread",
    "--tef",
    "t.json",
    "--redis",
    "redis://10.0.0.2:6379",
    "--redis-password-file",
    "/etc/wrapp/pw",
    "--name",
    "probe",
    "--bpftrace",
    "/opt/bpftrace",
    "--debug",
  ]);
  assert.deepEqual(args, {
    help: false,
    pid: 4242,
    summary: true,
    json: true,
    output: "out.json",
    filter: ["file,net", "getpid"],
    durationNs: 90e9,
    thresholdSigma: 2.5,
    slowNs: 50e6,
    floorNs: 200e3,
    perThread: true,
    tef: "t.json",
    redis: "redis://10.0.0.2:6379",
    redisPasswordFile: "/etc/wrapp/pw",
    name: "probe",
    tui: false,
    demo: false,
    tickMs: 50,
    fps: false,
    bpftrace: "/opt/bpftrace",
    debug: true,
  });
});

Deno.test("parseTraceArgs() reads the --tui options, and --demo implies --tui", () => {
  const args = parseTraceArgs(["--tui", "--tick", "100ms", "--fps", "--log", "/tmp/o.log", "ls"]);
  assert.equal(args.tui, true);
  assert.equal(args.tickMs, 100);
  assert.equal(args.fps, true);
  assert.equal(args.log, "/tmp/o.log");
  assert.deepEqual(args.command, ["ls"]);
  const demo = parseTraceArgs(["--demo", "--duration", "2s"]);
  assert.equal(demo.tui, true);
  assert.equal(demo.demo, true);
  assert.equal(demo.durationNs, 2e9);
});

Deno.test("parseTraceArgs() takes the command after -- or at the first non-option", () => {
  assert.deepEqual(parseTraceArgs(["-c", "--", "ls", "-l", "--pid"]).command, [
    "ls",
    "-l",
    "--pid",
  ]);
  assert.deepEqual(parseTraceArgs(["--slow", "5ms", "ls", "-l"]).command, ["ls", "-l"]);
  // An option's value is never taken for the command.
  assert.deepEqual(parseTraceArgs(["--tef", "x.json", "./app"]).command, ["./app"]);
  assert.equal(parseTraceArgs(["--tef", "x.json", "./app"]).tef, "x.json");
  assert.equal(parseTraceArgs(["-c", "./app"]).thresholdSigma, 3);
});

Deno.test("parseTraceArgs() explains every mistake", () => {
  const cases: [string[], string][] = [
    [[], 'Nothing to trace: usage "wrapp trace --pid PID" or "wrapp trace -- COMMAND [ARGS...]"'],
    [
      ["--pid", "12", "ls"],
      'Give either --pid or a command to "wrapp trace", not both (got --pid 12 and "ls")',
    ],
    [["--pid", "abc"], 'Invalid --pid "abc": expected a process id such as 4242'],
    [["--pid", "0"], 'Invalid --pid "0": expected a process id such as 4242'],
    [
      ["--sumary", "ls"],
      'Unknown option "--sumary" for "wrapp trace" (did you mean "--summary"?): see "wrapp trace --help"',
    ],
    [
      ["--duration", "soon", "ls"],
      'Invalid --duration "soon": expected a duration such as 500ms, 10s, 2m or 250us',
    ],
    [["--floor", "10ns", "ls"], 'Invalid --floor "10ns": must be at least 1.000 µs'],
    [
      ["--threshold=-1", "ls"],
      'Invalid --threshold "-1": expected a positive number of standard deviations such as 3.0',
    ],
    [
      ["--threshold", "-1", "ls"],
      'Option "--threshold" of "wrapp trace" needs a value (write --threshold=VALUE for a value starting with "-")',
    ],
    [["ls", "--pid"], ""], // fine: --pid belongs to ls
    [["--pid"], 'Option "--pid" of "wrapp trace" needs a value'],
    [["--tick", "20ms", "ls"], '"--tick" goes with "--tui"'],
    [["--fps", "ls"], '"--fps" goes with "--tui"'],
    [["--tui", "--tick", "1ms", "ls"], 'Invalid --tick "1ms": must be at least 10.00 ms'],
    [["--demo", "--pid", "12"], '"--demo" traces nothing real: drop --pid and the command'],
    [["--demo", "ls"], '"--demo" traces nothing real: drop --pid and the command'],
    [
      ["--tui", "--log", "x.log", "--pid", "12"],
      '"--log" is for a launched command\'s output: with --pid, wrapp has none',
    ],
  ];
  for (const [args, message] of cases) {
    if (message === "") {
      parseTraceArgs(args);
      continue;
    }
    assert.throws(() => parseTraceArgs(args), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.equal(e.message, message);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
});

Deno.test("wrapp trace --help teaches flags, defaults and examples", async () => {
  let printed = "";
  const code = await traceCommand(["--help"], { print: (t) => printed += t, debug: () => {} });
  assert.equal(code, 0);
  assert.equal(printed, TRACE_HELP);
  for (
    const text of [
      "--pid PID",
      "--summary",
      "--json",
      "--filter",
      "--duration",
      "--threshold",
      "default 3.0",
      "--slow",
      "--floor",
      "default 1ms",
      "--per-thread",
      "--tef FILE",
      "Examples:",
      "sudo wrapp trace --summary -- ./my-app",
    ]
  ) {
    assert.ok(TRACE_HELP.includes(text), text);
  }
});

Deno.test("traceCommand() refuses an unknown filter and a pid that does not exist, before tracing", async () => {
  const context = { print: () => {}, debug: () => {} };
  await assert.rejects(traceCommand(["--filter", "opneat", "--", "true"], context), {
    message:
      /Unknown syscall or class "opneat" in --filter for (x86_64|aarch64) \(did you mean "openat"\?\)/,
  });
  await assert.rejects(traceCommand(["--pid", String(2 ** 30)], context), {
    message: `No process with pid ${2 ** 30}`,
  });
  await assert.rejects(traceCommand(["--pid", String(Deno.pid)], context), {
    message: `Cannot trace wrapp itself (pid ${Deno.pid})`,
  });
});
