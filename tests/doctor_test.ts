/**
 * `wrapp doctor` as a whole process: what it says about this machine, Redis reachable or
 * not, --json, and the exit code.
 */

import assert from "node:assert/strict";
import { runWrapp, tempDir } from "./_helpers.ts";
import { freePort, startRedis } from "./_redis.ts";

const IS_ROOT = Deno.uid() === 0;
const ALL_CHECKS = [
  "root",
  "bpftrace",
  "tracefs",
  "tracepoints",
  "btf",
  "gdb",
  "core dumps",
  "setpriv",
  "prlimit",
  "c++filt",
];

async function hasProgram(name: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).output();
  return code === 0;
}

/** The line of check `name` in the text report. */
function lineOf(stdout: string, name: string): string {
  const line = stdout.split("\n").find((l) =>
    /^[✓✗!] /.test(l) && l.slice(2).startsWith(`${name} `)
  );
  assert.ok(line, `no line for ${name} in:\n${stdout}`);
  return line;
}

Deno.test("wrapp doctor: one line per check, a count line, and exit 0 only when nothing is missing", async () => {
  const started = Date.now();
  const { code, stdout, stderr } = await runWrapp(["doctor"]);
  const elapsed = Date.now() - started;
  for (const name of ALL_CHECKS) lineOf(stdout, name);
  assert.doesNotMatch(stdout, /^[✓✗!] redis /m, "Redis is checked only when asked");
  const last = stdout.trimEnd().split("\n").at(-1)!;
  const match = /^(\d+) problems?, (\d+) warnings?$/.exec(last);
  assert.ok(match, last);
  assert.equal(Number(match[1]), (stdout.match(/^✗ /gm) ?? []).length);
  assert.equal(Number(match[2]), (stdout.match(/^! /gm) ?? []).length);
  assert.equal(code, Number(match[1]) > 0 ? 1 : 0, stderr);
  // Every problem says what to do on the next line.
  const lines = stdout.split("\n");
  lines.forEach((line, i) => {
    if (/^[✗!] /.test(line)) assert.match(lines[i + 1], /^ +→ \S/, line);
  });
  // Deno's start-up included; the checks themselves have a 2.5 s budget.
  assert.ok(elapsed < 6000, `took ${elapsed} ms`);
});

Deno.test({
  name: "wrapp doctor as root on a machine with bpftrace: root, bpftrace, tracefs, tracepoints ✓",
  ignore: !IS_ROOT || !await hasProgram("bpftrace"),
  fn: async () => {
    const { stdout } = await runWrapp(["doctor"]);
    assert.match(lineOf(stdout, "root"), /^✓ /);
    assert.match(lineOf(stdout, "bpftrace"), /^✓ bpftrace +bpftrace \d+\.\d+(\.\d+)? at \//);
    const mounted = (await Deno.readTextFile("/proc/self/mounts")).includes(" tracefs ");
    if (mounted) {
      assert.match(lineOf(stdout, "tracefs"), /^✓ /);
      const tracepoints = lineOf(stdout, "tracepoints");
      const present = await Deno.stat("/sys/kernel/tracing/events/raw_syscalls/sys_enter").then(
        () => true,
        () => false,
      );
      if (present) assert.match(tracepoints, /^✓ .*raw_syscalls:sys_enter/);
    }
  },
});

Deno.test("wrapp doctor never mounts tracefs", async () => {
  const before = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
    .filter((l) => l.includes(" tracefs ")).length;
  await runWrapp(["doctor"]);
  const after = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
    .filter((l) => l.includes(" tracefs ")).length;
  assert.equal(after, before);
});

Deno.test("wrapp doctor --redis to a closed port: ✗ connection refused, exit 1, no password shown", async () => {
  const port = freePort();
  const started = Date.now();
  const { code, stdout } = await runWrapp([
    "doctor",
    "--redis",
    `redis://admin:hunter2@127.0.0.1:${port}`,
  ]);
  assert.equal(code, 1, stdout);
  assert.equal(
    lineOf(stdout, "redis"),
    `✗ redis        Cannot connect to Redis at "127.0.0.1:${port}": connection refused`,
  );
  assert.match(stdout, /→ start redis-server there, or fix the --redis URL/);
  assert.doesNotMatch(stdout, /hunter2/);
  assert.match(stdout, /^[1-9]\d* problems?, \d+ warnings?$/m);
  assert.ok(Date.now() - started < 6000);
});

Deno.test("wrapp doctor --config with a [redis] section PINGs it: ✓ PONG", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const config = `${dir.path}/svc.toml`;
  await Deno.writeTextFile(
    config,
    `[app]\nexecutable = "/bin/true"\n\n[redis]\nhost = "127.0.0.1"\nport = ${redis.port}\n`,
  );
  const { stdout } = await runWrapp(["doctor", "--config", config]);
  assert.match(
    lineOf(stdout, "redis"),
    new RegExp(`^✓ redis +PONG from 127\\.0\\.0\\.1:${redis.port}, db 1$`),
  );
});

Deno.test("wrapp doctor --config: a wrong Redis password is a problem, and never printed", async () => {
  await using redis = await startRedis({ password: "right-one" });
  await using dir = await tempDir();
  const config = `${dir.path}/svc.toml`;
  await Deno.writeTextFile(
    config,
    `[app]\nexecutable = "/bin/true"\n\n[redis]\nport = ${redis.port}\npassword = "wrong-one"\n`,
  );
  const { code, stdout } = await runWrapp(["doctor", "--config", config]);
  assert.equal(code, 1);
  assert.match(
    lineOf(stdout, "redis"),
    new RegExp(
      `^✗ redis +Cannot connect to Redis at "127\\.0\\.0\\.1:${redis.port}": wrong username or password`,
    ),
  );
  assert.match(stdout, /fix \[redis\] url \/ host \/ port \/ password in the config/);
  assert.doesNotMatch(stdout, /wrong-one|right-one/);
});

Deno.test("wrapp doctor --redis to a hung server answers within its budget", async () => {
  await using redis = await startRedis();
  redis.pause();
  try {
    const started = Date.now();
    const { code, stdout } = await runWrapp([
      "doctor",
      "--redis",
      `redis://127.0.0.1:${redis.port}`,
    ]);
    assert.equal(code, 1);
    assert.match(lineOf(stdout, "redis"), /^✗ redis .*no answer within 2000 ms/);
    assert.ok(Date.now() - started < 7000);
  } finally {
    redis.resume();
  }
});

Deno.test("wrapp doctor --json: an array with every check, each with a valid status", async () => {
  const port = freePort();
  const { code, stdout } = await runWrapp([
    "doctor",
    "--json",
    "--redis",
    `redis://127.0.0.1:${port}`,
  ]);
  const results = JSON.parse(stdout) as Array<
    { check: string; status: string; message: string; fix?: string }
  >;
  assert.deepEqual(results.map((r) => r.check), [...ALL_CHECKS, "redis"]);
  for (const result of results) {
    assert.ok(["ok", "warning", "missing"].includes(result.status), JSON.stringify(result));
    assert.equal(typeof result.message, "string");
    if (result.status !== "ok") assert.equal(typeof result.fix, "string", JSON.stringify(result));
  }
  const redis = results.find((r) => r.check === "redis")!;
  assert.equal(redis.status, "missing");
  assert.match(redis.message, /connection refused/);
  assert.equal(code, 1);
});

Deno.test("wrapp doctor without gdb, setpriv or prlimit in PATH: ✗ with the apt-get line, exit 1", async () => {
  await using dir = await tempDir();
  const { code, stdout } = await runWrapp(["doctor"], { env: { PATH: dir.path } });
  assert.equal(code, 1);
  assert.match(lineOf(stdout, "gdb"), /^✗ gdb +"gdb" is not in PATH \(needed for crash backtraces/);
  assert.match(stdout, /→ apt-get install gdb/);
  assert.match(lineOf(stdout, "setpriv"), /^✗ /);
  assert.match(stdout, /→ apt-get install util-linux/);
  assert.match(lineOf(stdout, "c++filt"), /^! /);
  assert.match(stdout, /→ apt-get install binutils/);
  assert.match(lineOf(stdout, "bpftrace"), /^✗ bpftrace +bpftrace is not installed/);
});

Deno.test("wrapp doctor --help and a misspelt option", async () => {
  const help = await runWrapp(["doctor", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: wrapp doctor \[options\]/);
  const wrong = await runWrapp(["doctor", "--jsn"]);
  assert.equal(wrong.code, 2);
  assert.match(
    wrong.stderr,
    /Unknown option "--jsn" for "wrapp doctor" \(did you mean "--json"\?\)/,
  );
});
