import assert from "node:assert/strict";
import { MEMPROF_HELP, memprofCommand, parseMemprofArgs } from "./memprof_command.ts";

Deno.test("parseMemprofArgs() reads --pid and the defaults", () => {
  const args = parseMemprofArgs(["--pid", "4242"]);
  assert.equal(args.pid, 4242);
  assert.equal(args.command, undefined);
  assert.deepEqual(args.listen, { hostname: "127.0.0.1", port: 17832 });
  assert.equal(args.threshold, 256);
  assert.equal(args.intervalMs, 1000);
  assert.equal(args.maxPages, 262144);
  assert.equal(args.reverse, false);
  assert.equal(args.allPages, false);
  assert.equal(args.durationMs, undefined);
});

Deno.test("parseMemprofArgs() takes the command after -- or after the options", () => {
  const args = parseMemprofArgs([
    "--listen",
    "0",
    "--out",
    "t.json",
    "--folded",
    "s.folded",
    "--tef",
    "m.json",
    "--threshold",
    "1024",
    "--reverse",
    "--interval",
    "2s",
    "--duration",
    "1m",
    "--max-pages",
    "1048576",
    "--all-pages",
    "--",
    "./app",
    "--pid",
    "7",
  ]);
  assert.deepEqual(args.command, ["./app", "--pid", "7"]);
  assert.equal(args.pid, undefined);
  assert.deepEqual(args.listen, { hostname: "127.0.0.1", port: 0 });
  assert.equal(args.out, "t.json");
  assert.equal(args.folded, "s.folded");
  assert.equal(args.tef, "m.json");
  assert.equal(args.threshold, 1024);
  assert.equal(args.reverse, true);
  assert.equal(args.intervalMs, 2000);
  assert.equal(args.durationMs, 60_000);
  assert.equal(args.maxPages, 1048576);
  assert.equal(args.allPages, true);
  assert.deepEqual(parseMemprofArgs(["--no-server", "ls", "-l"]).command, ["ls", "-l"]);
  assert.equal(parseMemprofArgs(["--no-server", "ls"]).listen, undefined);
});

Deno.test("parseMemprofArgs() explains what is wrong", () => {
  const cases: Array<[string[], string]> = [
    [
      [],
      'Nothing to profile: usage "wrapp memprof --pid PID" or "wrapp memprof -- COMMAND [ARGS...]"',
    ],
    [
      ["--pid", "12", "--", "ls"],
      'Give either --pid or a command to "wrapp memprof", not both (got --pid 12 and "ls")',
    ],
    [["--pid", "abc"], 'Invalid --pid "abc": expected a process id such as 4242'],
    [["--pid"], 'Option "--pid" of "wrapp memprof" needs a value'],
    [
      ["--treshold", "5", "ls"],
      'Unknown option "--treshold" for "wrapp memprof" (did you mean "--threshold"?): see "wrapp memprof --help"',
    ],
    [["--interval", "500ms", "ls"], 'Invalid --interval "500ms": must be at least 1.000 s'],
    [
      ["--duration", "soon", "ls"],
      'Invalid --duration "soon": expected a duration such as 500ms, 10s, 2m or 250us',
    ],
    [
      ["--max-pages", "12", "ls"],
      'Invalid --max-pages "12": expected a whole number of at least 1024',
    ],
    [["--threshold=-1", "ls"], 'Invalid --threshold "-1": expected a whole number of at least 0'],
    [
      ["--threshold", "-1", "ls"],
      'Option "--threshold" of "wrapp memprof" needs a value (write --threshold=VALUE for a value starting with "-")',
    ],
    [
      ["--listen", "x:y", "ls"],
      'Invalid --listen "x:y": expected PORT or HOST:PORT, e.g. "127.0.0.1:17832"',
    ],
    [
      ["--no-server", "--listen", "1", "ls"],
      'Give either --listen or --no-server to "wrapp memprof", not both',
    ],
    [
      ["--no-server", "--keep-serving", "ls"],
      '"--keep-serving" needs the server: drop "--no-server"',
    ],
    [["--name", "robot", "ls"], '"--name" needs "--redis URL"'],
    [["--redis-every", "5s", "ls"], '"--redis-every" needs "--redis URL"'],
    [
      ["--redis", "redis://h:1", "--redis-every", "10ms", "ls"],
      'Invalid --redis-every "10ms": must be at least 1.000 s',
    ],
    [
      ["--redis", "redis://h:1", "--name", "a b", "ls"],
      'Invalid --name "a b": use letters, digits, "_", "." and "-"',
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseMemprofArgs(args), { name: "UsageError", message }, args.join(" "));
  }
});

Deno.test("memprofCommand() prints its help, and refuses a pid that does not exist", async () => {
  const printed: string[] = [];
  const context = { print: (t: string) => printed.push(t), debug: () => {} };
  assert.equal(await memprofCommand(["--help"], context), 0);
  assert.equal(printed[0], MEMPROF_HELP);
  assert.match(MEMPROF_HELP, /-fno-omit-frame-pointer/);
  await assert.rejects(() => memprofCommand(["--pid", "999999999"], context), {
    name: "UsageError",
    message: "Cannot attach to pid 999999999: no such process",
  });
  await assert.rejects(() => memprofCommand(["--pid", String(Deno.pid)], context), {
    message: `Cannot attach to pid ${Deno.pid}: that is wrapp itself`,
  });
});
