import assert from "node:assert/strict";
import { configErrorFrom, errorFrom, fakeEnv, OFFLINE, offline } from "./_test_helpers.ts";
import { parseConfig } from "./load_config.ts";

Deno.test("parseConfig() fills in [redis] defaults only when the section is present", () => {
  const base = '[app]\nexecutable = "/bin/x"\n';
  assert.equal(parseConfig(base, OFFLINE).redis, undefined);
  assert.deepEqual(parseConfig(`${base}[redis]\n`, OFFLINE).redis, {
    host: "127.0.0.1",
    port: 6379,
    tls: false,
    dbLogs: 1,
    dbValues: 2,
    dbState: 5,
    maxLen: 1000,
    healthIntervalMs: 60_000,
    memoryQueue: 100_000,
    spoolDir: "/home/ada/.local/state/wrapp/x/spool",
    spoolMaxBytes: 268_435_456,
    policy: "drop_oldest",
    layout: "go",
    replicasAck: 0,
    replicasAckTimeoutMs: 1000,
  });
});

Deno.test("parseConfig() reads Redis Sentinels, the master name and replicas_ack", () => {
  const config = parseConfig(
    `[app]
executable = "/bin/x"

[redis]
sentinels = ["10.0.0.2:26379", "10.0.0.3", "[fd00::4]:26380", "10.0.0.2:26379"]
master_name = "robots"
sentinel_password = "s3cret"
password = "hunter2"
tls = true
replicas_ack = 1
replicas_ack_timeout = "250ms"
`,
    OFFLINE,
  );
  const redis = config.redis!;
  // The default port is filled in, IPv6 keeps its brackets, a repeated address counts once.
  assert.deepEqual(redis.sentinels, ["10.0.0.2:26379", "10.0.0.3:26379", "[fd00::4]:26380"]);
  assert.equal(redis.masterName, "robots");
  assert.equal(redis.sentinelPassword, "s3cret");
  assert.equal(redis.sentinelUsername, undefined);
  assert.equal(redis.password, "hunter2");
  assert.equal(redis.tls, true);
  assert.equal(redis.replicasAck, 1);
  assert.equal(redis.replicasAckTimeoutMs, 250);
});

Deno.test("parseConfig() reads Sentinels from a JSON config through the same checks", () => {
  const json = offline("svc.json");
  const config = parseConfig(
    JSON.stringify({
      app: { executable: "/bin/x" },
      redis: { sentinels: ["127.0.0.1:26379"], master_name: "m", replicas_ack: 1 },
    }),
    json,
  );
  assert.deepEqual(config.redis?.sentinels, ["127.0.0.1:26379"]);
  assert.equal(config.redis?.masterName, "m");
  assert.equal(config.redis?.replicasAck, 1);
  assert.equal(
    configErrorFrom(
      '{\n  "app": {"executable": "/bin/x"},\n  "redis": {"sentinels": ["127.0.0.1:26379"]}\n}',
      json,
    ),
    'Invalid config "svc.json" at line 3, column 13: "sentinels" in [redis] needs "master_name": the name the Sentinels monitor the master under',
  );
});

Deno.test("parseConfig() says what is wrong with sentinels, master_name and replicas_ack", () => {
  const base = '[app]\nexecutable = "/bin/x"\n[redis]\n';
  const cases: [string, string][] = [
    [
      'sentinels = ["127.0.0.1:26379"]',
      'line 4, column 1: "sentinels" in [redis] needs "master_name": the name the Sentinels monitor the master under',
    ],
    [
      'master_name = "m"',
      'line 4, column 1: "master_name" in [redis] needs "sentinels": the addresses of the Redis Sentinels',
    ],
    [
      'sentinels = []\nmaster_name = "m"',
      'line 4, column 1: "sentinels" in [redis] is empty: list at least one "host:port"',
    ],
    [
      'sentinels = ["127.0.0.1:0"]\nmaster_name = "m"',
      'line 4, column 1: "sentinels" in [redis]: "127.0.0.1:0" has no valid port (1 to 65535); expected "host:port"',
    ],
    [
      'sentinels = ["redis://127.0.0.1:26379"]\nmaster_name = "m"',
      'line 4, column 1: "sentinels" in [redis]: "redis://127.0.0.1:26379" is not a host; expected "host:port"',
    ],
    [
      'sentinels = [26379]\nmaster_name = "m"',
      'line 4, column 1: "sentinels" in [redis] must be an array of strings, got [26379]',
    ],
    [
      'host = "10.0.0.2"\nsentinels = ["127.0.0.1"]\nmaster_name = "m"',
      'line 4, column 1: "host" and "sentinels" in [redis] are both set: keep one (the Sentinels name the master\'s address)',
    ],
    [
      'sentinels = ["127.0.0.1"]\nmaster_name = "m"\nurl = "redis://10.0.0.2"',
      'line 6, column 1: "url" and "sentinels" in [redis] are both set: keep one (the Sentinels name the master\'s address)',
    ],
    [
      "replicas_ack = -1",
      'line 4, column 1: "replicas_ack" in [redis] must be an integer between 0 and 16, got -1',
    ],
    [
      "replicas_ack_timeout = 0",
      'line 4, column 1: "replicas_ack_timeout" in [redis] must be a positive duration (seconds, or a string such as "500ms", "10s" or "2m"), got 0',
    ],
  ];
  for (const [lines, message] of cases) {
    assert.equal(errorFrom(`${base}${lines}\n`), `Invalid config "svc.toml" at ${message}`, lines);
  }
});

Deno.test("parseConfig() takes host, port, TLS and credentials from a rediss:// url", () => {
  const redis = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[redis]\nurl = "rediss://robot:s%40cret@10.0.0.2:6390"\n',
    OFFLINE,
  ).redis!;
  assert.equal(redis.host, "10.0.0.2");
  assert.equal(redis.port, 6390);
  assert.equal(redis.tls, true);
  assert.equal(redis.username, "robot");
  assert.equal(redis.password, "s@cret");
});

Deno.test("parseConfig() reads the Redis password from password_file or WRAPP_REDIS_PASSWORD", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/pw`, "from-file\n");
    const withFile = parseConfig(
      `[app]\nexecutable = "/bin/x"\n[redis]\npassword_file = "${dir}/pw"\n`,
      OFFLINE,
    ).redis!;
    assert.equal(withFile.password, "from-file");
    const fromEnv = parseConfig('[app]\nexecutable = "/bin/x"\n[redis]\n', {
      ...OFFLINE,
      env: fakeEnv({ HOME: "/home/ada", WRAPP_REDIS_PASSWORD: "from-env" }),
    }).redis!;
    assert.equal(fromEnv.password, "from-env");
    assert.equal(
      errorFrom(`[app]\nexecutable = "/bin/x"\n[redis]\npassword_file = "${dir}/absent"\n`),
      `Invalid config "svc.toml" at line 4, column 1: cannot read "password_file" "${dir}/absent": no such file or directory`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
