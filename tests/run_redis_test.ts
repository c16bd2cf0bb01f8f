/**
 * `wrapp run` with a [redis] section, against a real redis-server started by each test:
 * the layout, no loss across outages and a kill -9 of wrapp, control commands, and
 * `wrapp logs` reading it back.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import {
  logTexts,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  waitFor,
  writeScript,
} from "./_helpers.ts";
import {
  freePort,
  type RedisServer,
  startRedis,
  streamMessages as messages,
  writeRedisConfig as redisConfig,
} from "./_redis.ts";

/** The go layout's run separators (the Go wrapp's, local time). */
const NEW_RUN = /^\{\{__NEW_RUN_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\}\}$/;
const END_RUN = /^\{\{__END_RUN_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_exit_-?\d+\}\}$/;

/** The service's lines in `key`: the messages without the go layout's run separators. */
async function serviceLines(client: Redis, key: string): Promise<string[]> {
  return (await messages(client, key)).filter((m) => !NEW_RUN.test(m) && !END_RUN.test(m));
}

/** Total size of the files in `dir` (0 when it does not exist yet). */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile) total += (await Deno.stat(`${dir}/${entry.name}`)).size;
    }
  } catch {
    return 0;
  }
  return total;
}

/** Every number 1..n present, first occurrences in order (at-least-once may repeat a few). */
function assertAllInOrder(texts: string[], n: number): void {
  const seen = new Set<string>();
  let expected = 1;
  for (const text of texts) {
    if (seen.has(text)) continue;
    seen.add(text);
    assert.equal(text, String(expected), `line ${expected} missing or out of order`);
    expected++;
  }
  assert.equal(expected - 1, n, `${n - expected + 1} lines missing`);
}

Deno.test('wrapp run with layout = "wrapp": lines as printed, stderr in :error, markers in DB 2, state in DB 5', async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `echo "job {{jobs}}"; echo "job {{jobs}} temp {{temp:21.5}}"; echo "oops" >&2; exit 3`,
  );
  const result = await runWrapp([
    "run",
    await redisConfig(dir.path, {
      executable: script,
      port: redis.port,
      layout: "wrapp",
      extra: "max_len = 50",
    }),
  ]);
  assert.equal(result.code, 3, result.stderr);
  const logs = await redis.client(1);
  assert.deepEqual((await logs.keys("*")).sort(), [
    "logs:app:svc:error",
    "logs:app:svc:info",
    "logs:app:svc:status",
  ]);
  const [[, fields]] = await logs.xrange("logs:app:svc:info", "-", "+", "COUNT", 1);
  const entry = Object.fromEntries(
    fields.flatMap((_, i) => i % 2 ? [] : [[fields[i], fields[i + 1]]]),
  );
  assert.equal(entry.message, "job {{jobs}}");
  assert.match(entry.run, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
  assert.match(entry.pid, /^\d+$/);
  assert.equal(entry.host, Deno.hostname());
  assert.ok(
    Math.abs(Number(entry.ts) - Date.now()) < 60_000,
    `ts ${entry.ts} is the read time in ms`,
  );
  assert.deepEqual(await messages(logs, "logs:app:svc:error"), ["oops"]);
  const status = await messages(logs, "logs:app:svc:status");
  assert.match(status[0], /^started svc \(pid \d+\)$/);
  assert.match(status.at(-1)!, /^svc ended with exit code 3 after \d+ ms$/);
  const values = await redis.client(2);
  assert.equal(await values.get("wrapp:svc:jobs"), "2");
  assert.equal(await values.get("wrapp:svc:temp"), "21.5");
  const state = await (await redis.client(5)).hgetall("wrapp:svc:state");
  assert.equal(state.run, entry.run);
  assert.equal(state.host, Deno.hostname());
  assert.ok(state.version && state.heartbeat && state.status, JSON.stringify(state));
});

Deno.test("the last lines of a service that exits at once carry its pid, not 0", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `for i in 1 2 3 4 5; do echo "line $i"; done`,
  );
  const result = await runWrapp([
    "run",
    await redisConfig(dir.path, { executable: script, port: redis.port, layout: "wrapp" }),
  ]);
  assert.equal(result.code, 0, result.stderr);
  const logs = await redis.client(1);
  const pids = (await logs.xrange("logs:app:svc:info", "-", "+")).map(([, fields]) =>
    fields[fields.indexOf("pid") + 1]
  );
  const [[, start]] = await logs.xrange("logs:app:svc:status", "-", "+", "COUNT", 1);
  const startPid = start[start.indexOf("pid") + 1];
  assert.match(startPid, /^[1-9]\d*$/);
  assert.deepEqual(pids, Array(5).fill(startPid));
});

Deno.test("wrapp run trims streams with MAXLEN ~ max_len", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const config = await redisConfig(dir.path, {
    executable: "seq",
    args: ["1", "5000"],
    port: redis.port,
    extra: "max_len = 100",
  });
  assert.equal((await runWrapp(["run", config])).code, 0);
  const length = await (await redis.client(1)).xlen("logs:app:svc:info");
  assert.ok(length >= 100 && length < 1000, `stream length ${length} for max_len 100`);
  const last = await messages(await redis.client(1), "logs:app:svc:info");
  assert.equal(last.at(-2), "5000");
  assert.match(last.at(-1)!, END_RUN);
});

Deno.test("wrapp run delivers 1,000,000 lines to Redis, all of them, in order", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const config = await redisConfig(dir.path, {
    executable: "seq",
    args: ["1", "1000000"],
    port: redis.port,
    extra: "max_len = 2000000",
  });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  const client = await redis.client(1);
  // The go layout (default): the lines between the run's two separators.
  assert.equal(await client.xlen("logs:app:svc:info"), 1_000_002);
  let expected = 0;
  let cursor = "-";
  while (true) {
    const page = await client.xrange("logs:app:svc:info", cursor, "+", "COUNT", 100_000);
    if (page.length === 0) break;
    for (const [, fields] of page) {
      const message = fields[fields.indexOf("message") + 1];
      if (expected === 0) assert.match(message, NEW_RUN);
      else if (expected === 1_000_001) assert.match(message, END_RUN);
      else if (message !== String(expected)) assert.fail(`entry ${expected} is "${message}"`);
      expected++;
    }
    cursor = `(${page.at(-1)![0]}`;
  }
  assert.equal(expected, 1_000_002);
});

Deno.test("Redis killed mid-run and restarted: no line lost, order kept, outage reported", async () => {
  await using redis = await startRedis({ persistent: true });
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `for i in $(seq 1 3000); do echo $i; sleep 0.001; done`,
  );
  const wrapp = spawnWrapp([
    "run",
    await redisConfig(dir.path, {
      executable: script,
      port: redis.port,
      extra: "max_len = 100000",
    }),
  ]);
  const client = await redis.client(1);
  await waitFor(
    async () => (await client.xlen("logs:app:svc:info").catch(() => 0)) > 300,
    60_000, // a fork of sleep per line: slow on a busy machine
    "300 lines",
  );
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await redis.restart();
  const output = await wrapp.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const after = await redis.client(1);
  assertAllInOrder(await serviceLines(after, "logs:app:svc:info"), 3000);
  const status = await messages(after, "logs:app:svc:status");
  assert.ok(status.some((m) => /was unreachable for .*events waited/.test(m)), status.join("\n"));
});

Deno.test("Redis down at start: the service starts anyway and its lines arrive when Redis comes up", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `for i in $(seq 1 50); do echo $i; sleep 0.05; done`,
  );
  const wrapp = spawnWrapp(["run", await redisConfig(dir.path, { executable: script, port })]);
  // Redis comes up once wrapp has found it down (whenever a busy machine lets wrapp start).
  let stderr = "";
  const stderrDone = (async () => {
    for await (const text of wrapp.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  await waitFor(() => stderr.includes('streaming "svc" to Redis'), 60_000, "wrapp's first try");
  await using redis = await startRedis({ port });
  const [status] = await Promise.all([wrapp.status, stderrDone, wrapp.stdout.cancel()]);
  assert.equal(status.code, 0, stderr);
  assert.match(
    stderr,
    /streaming "svc" to Redis at 127\.0\.0\.1:\d+ \(Cannot connect to Redis at "127\.0\.0\.1:\d+": connection refused; events wait in the spool\)/,
  );
  assertAllInOrder(await serviceLines(await redis.client(1), "logs:app:svc:info"), 50);
});

Deno.test("wrapp killed with SIGKILL while Redis is down: the next wrapp delivers the spooled lines", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const script = await writeScript(dir.path, "svc.sh", `seq 1 2000; echo spooled; sleep 30`);
  const config = await redisConfig(dir.path, {
    executable: script,
    port,
    extra: "memory_queue = 100\nmax_len = 100000",
  });
  const first = spawnWrapp(["run", config]);
  await waitFor(
    async () => (await folderBytes(`${dir.path}/spool`)) > 8000,
    20_000,
    "the spool to fill",
  );
  await new Promise((resolve) => setTimeout(resolve, 800)); // past the 500 ms fsync interval
  first.kill("SIGKILL");
  await first.output();
  // Kill the orphaned service too: it was in wrapp's process group's session.
  new Deno.Command("pkill", { args: ["-f", `${dir.path}/svc.sh`] }).outputSync();

  await using redis = await startRedis({ port });
  await Deno.writeTextFile(`${dir.path}/quick.sh`, "#!/bin/sh\necho second run\n", { mode: 0o755 });
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace(script, `${dir.path}/quick.sh`),
  );
  const second = await runWrapp(["run", config]);
  assert.equal(second.code, 0, second.stderr);
  const all = await messages(await redis.client(1), "logs:app:svc:info");
  const lines = await serviceLines(await redis.client(1), "logs:app:svc:info");
  assertAllInOrder(lines.filter((l) => /^\d+$/.test(l)), 2000);
  assert.ok(lines.includes("spooled"));
  assert.equal(lines.at(-1), "second run");
  // The killed run never ended: two starts, one end, as the Go wrapp would leave it.
  assert.equal(all.filter((m) => NEW_RUN.test(m)).length, 2);
  assert.deepEqual(all.filter((m) => END_RUN.test(m)), [all.at(-1)]);
});

Deno.test("an unreachable Redis or a wrong password is reported without the password", async () => {
  await using redis = await startRedis({ password: "right-horse" });
  await using dir = await tempDir();
  const config = await redisConfig(dir.path, {
    executable: "true",
    port: redis.port,
    extra: 'password = "wrong-battery-staple"',
  });
  const result = await runWrapp(["run", config, "--debug"]);
  assert.equal(result.code, 0);
  assert.match(result.stderr, /wrong username or password \(WRONGPASS\)/);
  assert.doesNotMatch(result.stderr + result.stdout, /wrong-battery-staple/);
  const check = await runWrapp(["check", config]);
  assert.doesNotMatch(check.stdout, /wrong-battery-staple/);
  assert.match(check.stdout, /password = "\*\*\*\*\*\*\*\*"/);
  const logs = await runWrapp(["logs", "svc", "--port", String(freePort())]);
  assert.equal(logs.code, 69);
  assert.match(
    logs.stderr,
    /^wrapp: Cannot connect to Redis at "127\.0\.0\.1:\d+": connection refused$/m,
  );
  const wrong = await runWrapp(["logs", "svc", "--port", String(redis.port)], {
    env: { WRAPP_REDIS_PASSWORD: "wrong-battery-staple" },
  });
  assert.equal(wrong.code, 69);
  assert.match(wrong.stderr, /wrong username or password/);
  assert.doesNotMatch(wrong.stderr, /wrong-battery-staple/);
});

Deno.test("the control stream restarts, signals and stops the service, and rejects anything else", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `trap 'echo got USR1' USR1
trap 'echo stopping; exit 0' TERM
echo "up $$"
while true; do sleep 0.05; done`,
  );
  const wrapp = spawnWrapp([
    "run",
    await redisConfig(dir.path, { executable: script, port: redis.port }),
  ]);
  const logs = await redis.client(1);
  const control = await redis.client(5);
  const info = () => messages(logs, "logs:app:svc:info");
  const waitLine = (pattern: RegExp, count = 1) =>
    waitFor(
      async () => (await info()).filter((l) => pattern.test(l)).length >= count,
      15_000,
      String(pattern),
    );
  await waitLine(/^up \d+$/);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the control reader starts after the child
  await control.xadd("wrapp:svc:control", "*", "cmd", "signal USR1");
  await waitLine(/^got USR1$/);
  await control.xadd("wrapp:svc:control", "*", "cmd", "reboot");
  await control.xadd("wrapp:svc:control", "*", "cmd", "restart");
  await waitLine(/^up \d+$/, 2);
  await control.xadd("wrapp:svc:control", "*", "cmd", "stop");
  const output = await wrapp.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const ups = (await info()).filter((l) => l.startsWith("up "));
  assert.notEqual(ups[0], ups[1], "a new process after restart");
  const status = await messages(logs, "logs:app:svc:status");
  assert.ok(
    status.some((m) => /^control: signal USR1 \(entry \d+-\d+\)$/.test(m)),
    status.join("\n"),
  );
  assert.ok(
    status.some((m) =>
      /^control: rejected "reboot" \(entry \d+-\d+\): unknown command "reboot": expected restart, stop or signal <NAME>$/
        .test(m)
    ),
    status.join("\n"),
  );
  assert.ok(status.some((m) => /^control: restart /.test(m)));
  assert.ok(status.some((m) => /^control: stop /.test(m)));
  assert.equal((await info()).filter((l) => l === "stopping").length, 2);
});

Deno.test("wrapp logs prints the newest entries and -f follows new ones", async () => {
  await using redis: RedisServer = await startRedis();
  const client = await redis.client(1);
  for (let i = 1; i <= 30; i++) {
    await client.xadd(
      "logs:app:robot:info",
      "*",
      "message",
      `line ${i}`,
      "ts",
      String(Date.now()),
    );
  }
  // Entry ids of different streams only order entries a millisecond apart.
  await new Promise((resolve) => setTimeout(resolve, 5));
  await client.xadd("logs:app:robot:error", "*", "message", "an error", "ts", String(Date.now()));
  const last = await runWrapp(["logs", "robot", "--port", String(redis.port), "-n", "3"]);
  assert.equal(last.code, 0, last.stderr);
  const lines = last.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {3}line 29$/);
  assert.match(lines[2], /Z error {2}an error$/);

  const follower = spawnWrapp([
    "logs",
    "robot",
    "--port",
    String(redis.port),
    "-n",
    "1",
    "-f",
    "--json",
  ]);
  const reader = follower.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const nextLine = async () => {
    while (!seen.includes("\n")) seen += (await reader.read()).value ?? "";
    const line = seen.slice(0, seen.indexOf("\n"));
    seen = seen.slice(line.length + 1);
    return JSON.parse(line);
  };
  // The newest entry is printed once wrapp logs has read where the streams end: only an
  // entry added after that is new, however long a busy machine takes to start it.
  assert.equal((await nextLine()).message, "an error");
  await client.xadd("logs:app:robot:info", "*", "message", "fresh line", "ts", String(Date.now()));
  const entry = await nextLine();
  assert.equal(entry.stream, "info");
  assert.equal(entry.message, "fresh line");
  follower.kill("SIGINT");
  reader.releaseLock();
  await follower.stdout.cancel().catch(() => {});
  const status = await follower.status;
  assert.equal(status.code, 0);
  await follower.stderr.cancel().catch(() => {});
});

Deno.test("wrapp logs reads both layouts alike: stderr lines shown as error", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `echo " out {{n}}"; sleep 0.1; echo err >&2`,
  );
  const shown: Record<string, string[]> = {};
  for (const layout of ["go", "wrapp"] as const) {
    const config = await redisConfig(dir.path, {
      executable: script,
      name: layout,
      port: redis.port,
      layout,
    });
    assert.equal((await runWrapp(["run", config])).code, 0);
    const logs = await runWrapp(["logs", layout, "--port", String(redis.port)]);
    assert.equal(logs.code, 0, logs.stderr);
    shown[layout] = logs.stdout.trim().split("\n").map((line) => line.replace(/^\S+ /, ""));
  }
  assert.equal(shown.go.length, 4, shown.go.join("\n"));
  assert.match(shown.go[0], /^info {3}\{\{__NEW_RUN_/);
  assert.deepEqual(shown.go.slice(1, 3), ["info   out", "error  err"]);
  assert.match(shown.go[3], /^info {3}\{\{__END_RUN_.*_exit_0\}\}$/);
  assert.deepEqual(shown.wrapp, ["info    out {{n}}", "error  err"]);
  // An entry as the Go wrapp wrote it (no ts: the entry id's time is shown).
  await (await redis.client(1)).xadd("logs:app:go:info", "*", "message", "from the Go wrapp");
  const go = await runWrapp(["logs", "go", "--port", String(redis.port), "-n", "1"]);
  assert.match(go.stdout, /^\d{4}-\d\d-\d\dT\S+Z info {3}from the Go wrapp\n$/);
});

Deno.test("a config may enable Redis and the local trace together", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const config = await redisConfig(dir.path, {
    executable: "echo",
    args: ["to both"],
    port: redis.port,
  });
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)) + `[local]\nenabled = true\ndir = "${dir.path}/traces"\n`,
  );
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await serviceLines(await redis.client(1), "logs:app:svc:info"), ["to both"]);
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), ["to both"]);
});

Deno.test("a second wrapp on the same spool folder is refused while the first runs, and may start after it", async () => {
  await using dir = await tempDir();
  const port = freePort(); // nobody listens: events wait in the spool
  const config = await redisConfig(dir.path, { executable: "/bin/sleep", args: ["3"], port });
  const first = spawnWrapp(["run", config]);
  try {
    await waitFor(async () =>
      await Deno.stat(`${dir.path}/spool/owner`).then(() => true, () => false)
    );
    const second = await runWrapp(["run", config]);
    assert.equal(second.code, 74, second.stderr);
    assert.match(
      second.stderr,
      /wrapp: Cannot use spool ".*\/spool": wrapp pid \d+ is using it \(two wrapps for the same service name\? give each its own spool folder: \[redis\] spool_dir\)/,
    );
  } finally {
    first.kill("SIGKILL"); // as if it crashed: its owner file stays behind, stale
    await first.status;
  }
  const after = await runWrapp(["run", config]);
  assert.equal(after.code, 0, after.stderr);
});
