/**
 * `wrapp run` with a [trace] section: the service's syscalls traced with real bpftrace,
 * summaries and anomalies in the local trace and in Redis.
 */

import assert from "node:assert/strict";
import { readLatestTrace, runWrapp, tempDir, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";

Deno.test({
  name: "wrapp run [trace] sends the service's syscall summary and slow calls to every sink",
  ignore: !isRoot && !CI,
  async fn() {
    assert.ok(isRoot, "[trace] needs root (CI runs as root)");
    await using redis = await startRedis();
    await using dir = await tempDir();
    // At once (wrapp holds the service before its exec until tracing is attached), a
    // child does one very slow call among fast ones.
    const script = await writeScript(
      dir.path,
      "svc.sh",
      `for i in 1 2 3 4 5 6 7 8; do sleep 0.01; done
sleep 0.6
sleep 1.5 # at least one per-second count (DB 2)
echo done`,
    );
    const config = `${dir.path}/svc.toml`;
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${script}"
stream_name = "traced"
[output]
echo = false
[trace]
slow = "400ms"
[local]
enabled = true
dir = "${dir.path}/traces"
[redis]
port = ${redis.port}
max_len = 100000
spool_dir = "${dir.path}/spool"
`,
    );
    const result = await runWrapp(["run", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /\[trace\] is off/);
    const entries = await (await redis.client(1)).xrange("logs:app:traced:trace", "-", "+");
    const kinds = entries.map(([, f]) => f[f.indexOf("kind") + 1]);
    const messages = entries.map(([, f]) => f[f.indexOf("message") + 1]);
    assert.ok(kinds.includes("syscall_summary"), messages.join("\n"));
    assert.ok(
      messages.some((m) => /^anomaly: (clock_nanosleep|nanosleep) took 6\d\d\.\d+ ms/.test(m)),
      messages.join("\n"),
    );
    const calls = Number(await (await redis.client(2)).get("wrapp:traced:syscalls"));
    assert.ok(calls > 10, `interval counters in DB 2: ${calls}`);
    const events = await readLatestTrace(`${dir.path}/traces`);
    assert.ok(events.some((e) => e.ph === "C" && e.name === "syscalls/s"), "rate counters");
    assert.ok(
      events.some((e) => e.ph === "X" && /nanosleep/.test(String(e.name))),
      "the slow call as a slice",
    );
  },
});

Deno.test({
  name: "wrapp trace --redis sends the summary and anomalies to logs:app:<name>:trace",
  ignore: !isRoot && !CI,
  async fn() {
    assert.ok(isRoot, "wrapp trace needs root (CI runs as root)");
    await using redis = await startRedis();
    await using dir = await tempDir();
    const result = await runWrapp([
      "trace",
      "--redis",
      `redis://127.0.0.1:${redis.port}`,
      "--name",
      "probe",
      "--slow",
      "200ms",
      "--",
      "sh",
      "-c",
      "sleep 0.4; ls / > /dev/null",
    ], { env: { XDG_STATE_HOME: dir.path, HOME: dir.path } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /wrapp trace: streaming events to Redis at 127\.0\.0\.1:\d+/);
    const entries = await (await redis.client(1)).xrange("logs:app:probe:trace", "-", "+");
    const messages = entries.map(([, f]) => f[f.indexOf("message") + 1]);
    assert.ok(messages.some((m) => m.startsWith("syscall summary: ")), messages.join("\n"));
    assert.ok(
      messages.some((m) => /^anomaly: (clock_nanosleep|nanosleep) took 4\d\d\.\d+ ms/.test(m)),
      messages.join("\n"),
    );
    const bad = await runWrapp(["trace", "--redis", "http://x", "--", "true"]);
    assert.equal(bad.code, 2);
    // The URL is not echoed: it may hold a password.
    assert.match(
      bad.stderr,
      /^wrapp: Invalid --redis: not a Redis URL; expected redis:\/\/\[user:password@\]host\[:port\] or rediss:\/\/…$/m,
    );
  },
});
