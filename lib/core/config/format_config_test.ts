import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { formatConfig } from "./format_config.ts";
import { loadConfig, parseConfig, type ParseConfigOptions } from "./load_config.ts";

const OFFLINE: ParseConfigOptions = {
  file: "svc.toml",
  cwd: "/srv/robot",
  checkExecutable: false,
  env: (name) => ({ HOME: "/home/ada" } as Record<string, string>)[name],
  uid: 1000,
};

Deno.test("formatConfig() prints every key with its default as TOML", () => {
  const config = parseConfig('[app]\nexecutable = "bin/arm"\n', OFFLINE);
  assert.equal(
    formatConfig(config),
    `[app]
executable = "/srv/robot/bin/arm" # as written: "bin/arm"
args = []
# user: not set
# group: not set
stream_name = "arm"
cwd = "/srv/robot"
env = {}
inherit_env = true
stop_grace = "10s"

[output]
echo = true
max_line_bytes = 65536
multiline_start = ">>|"
multiline_end = "|<<"
multiline_max_lines = 1000
multiline_max_bytes = 1048576
multiline_timeout = "5s"
markers = true

[local]
enabled = true
dir = "/home/ada/.local/state/wrapp/arm"
keep_runs = 20

[restart]
policy = "never"
delay = "1s"
max_delay = "30s"
reset_after = "1m"
max_restarts = 5
window = "5m"

[crash]
enabled = true
core_dumps = false
ebpf_backtrace = true
core_timeout = "10s"
gdb = "gdb"
gdb_timeout = "30s"

[metrics]
enabled = true
every = "5s"`,
  );
});

Deno.test("formatConfig() shows the Redis password masked, never in clear", () => {
  const config = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[redis]\nhost = "10.0.0.2"\npassword = "hunter2"\n',
    OFFLINE,
  );
  const text = formatConfig(config);
  assert.ok(!text.includes("hunter2"), text);
  assert.ok(text.includes('\nhost = "10.0.0.2"\nport = 6379\n'), text);
  assert.ok(text.includes('\npassword = "********"\n'), text);
});

Deno.test("formatConfig() marks an unset Redis password as not set", () => {
  const text = formatConfig(parseConfig('[app]\nexecutable = "/bin/x"\n[redis]\n', OFFLINE));
  assert.ok(text.includes('[redis]\n# url: not set\nhost = "127.0.0.1"\nport = 6379\n'), text);
  assert.ok(text.includes("\n# password: not set\n"), text);
});

Deno.test("formatConfig() writes the environment as an [app.env] table after the [app] keys", () => {
  const config = parseConfig(
    '[app]\nexecutable = "/bin/x"\nuser = "robot"\nenv = { ROS_DOMAIN_ID = "7", "my var" = "a b" }\n',
    OFFLINE,
  );
  const text = formatConfig(config);
  assert.ok(text.includes('user = "robot"\n'), text);
  assert.ok(
    text.includes(
      'stop_grace = "10s"\n\n[app.env]\nROS_DOMAIN_ID = "7"\n"my var" = "a b"\n\n[output]\n',
    ),
    text,
  );
});

Deno.test("formatConfig() prints durations in the largest units that are exact", () => {
  const grace = (value: string) => {
    const config = parseConfig(`[app]\nexecutable = "/bin/x"\nstop_grace = ${value}\n`, OFFLINE);
    return /stop_grace = (.*)/.exec(formatConfig(config))?.[1];
  };
  assert.equal(grace("0"), '"0s"');
  assert.equal(grace('"500ms"'), '"500ms"');
  assert.equal(grace("1.5"), '"1s500ms"');
  assert.equal(grace("90"), '"1m30s"');
  assert.equal(grace("7200"), '"2h"');
});

Deno.test("formatConfig() output reads back as the same config from another folder", () => {
  const config = parseConfig(
    `[app]
executable = "./bin/arm"
args = ["--name", "quote \\" and \\\\ and tab\\t", "é ✓", "del \\u007f"]
group = "dialout"
cwd = "work"
inherit_env = false
stop_grace = 1.25
env = { PATH = "/opt/bin", "weird key" = "line1\\nline2" }

[output]
echo = false
multiline_start = "<<<"
multiline_end = ">>>"
multiline_timeout = "1m30s"

[local]
dir = "traces"

[redis]
port = 6380
`,
    OFFLINE,
  );
  const text = formatConfig(config);
  const again = parseConfig(text, { ...OFFLINE, file: "elsewhere.toml", cwd: "/tmp" });
  assert.deepEqual(
    { ...again, file: config.file, app: { ...again.app, executable: config.app.executable } },
    config,
  );
  assert.equal(again.app.executable, "/srv/robot/bin/arm");
});

Deno.test("formatConfig() output of a Sentinel config reads back the same, its password hidden", () => {
  const config = parseConfig(
    `[app]
executable = "/bin/x"
[redis]
sentinels = ["10.0.0.2", "10.0.0.3:26380"]
master_name = "robots"
sentinel_password = "s3cret"
replicas_ack = 1
replicas_ack_timeout = "250ms"
`,
    OFFLINE,
  );
  const text = formatConfig(config);
  assert.match(text, /^# host: not used, the Sentinels name the master$/m);
  assert.match(text, /^sentinels = \["10\.0\.0\.2:26379", "10\.0\.0\.3:26380"\]$/m);
  assert.match(text, /^sentinel_password = "\*{8}"$/m);
  assert.doesNotMatch(text, /s3cret/);
  const again = parseConfig(text, OFFLINE);
  assert.deepEqual(again.redis, { ...config.redis, sentinelPassword: "********" });
});

Deno.test("formatConfig() output parses as TOML with one table per section", () => {
  const config = parseConfig('[app]\nexecutable = "/bin/x"\n[redis]\npassword = "p"\n', OFFLINE);
  const document = parse(formatConfig(config)) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(document), [
    "app",
    "output",
    "local",
    "restart",
    "crash",
    "metrics",
    "redis",
  ]);
  assert.equal(document.redis.password, "********");
});

Deno.test("formatConfig() turns a Go-format JSON config into TOML that loads back the same, secrets hidden", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(`${dir}/secrets/logger`, { recursive: true });
    await Deno.writeTextFile(`${dir}/secrets/logger/password`, "hunter2\n");
    await Deno.writeTextFile(`${dir}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(
      `${dir}/svc.json`,
      JSON.stringify({
        _description: "Go wrapp config",
        redis: { host: "localhost", port: 6379, secrets_dir: "secrets/logger" },
        app: {
          executable: "./run.sh",
          args: ["-v", 'a "quoted" arg'],
          user: "",
          stream_name: "svc",
        },
        debug: { enabled: true, port: 2345, host: "0.0.0.0" },
      }),
    );
    const options = { ...OFFLINE, checkExecutable: true, cwd: "/" };
    const config = await loadConfig(`${dir}/svc.json`, options);
    const text = formatConfig(config);
    assert.ok(!text.includes("hunter2"), text);
    assert.ok(text.includes(`\nsecrets_dir = "${dir}/secrets/logger"\n`), text);
    assert.ok(text.includes('\n# username: "logger", from secrets_dir\n'), text);
    assert.ok(text.includes("\n# password: from secrets_dir\n"), text);
    assert.ok(text.includes('[debug]\nenabled = true\nhost = "0.0.0.0"\nport = 2345'), text);

    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.writeTextFile(`${dir}/elsewhere/svc.toml`, text);
    const again = await loadConfig(`${dir}/elsewhere/svc.toml`, options);
    assert.deepEqual(
      { ...again, file: config.file, app: { ...again.app, executable: config.app.executable } },
      config,
    );
    assert.equal(again.redis?.password, "hunter2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatConfig() output loads back the same whatever the source of the Redis password", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(`${dir}/pw`, "from-file\n");
    const env = (name: string) =>
      ({ HOME: "/home/ada", WRAPP_REDIS_PASSWORD: "from-env" } as Record<string, string>)[name];
    const options = { ...OFFLINE, env };
    const cases: [string, string, string | undefined][] = [
      [`password_file = "${dir}/pw"`, "# password: from password_file", "from-file"],
      ["", "# password: from $WRAPP_REDIS_PASSWORD", "from-env"],
      [
        'url = "rediss://robot:s%40cret@10.0.0.2:6390"',
        'url = "rediss://robot:********@10.0.0.2:6390"',
        "********",
      ],
      [
        'url = "redis://10.0.0.2:6390"\nusername = "robot"',
        'url = "redis://10.0.0.2:6390"',
        "from-env",
      ],
      ['password = "hunter2"', 'password = "********"', "********"],
    ];
    for (const [keys, shown, reloaded] of cases) {
      const config = parseConfig(`[app]\nexecutable = "/bin/x"\n[redis]\n${keys}\n`, options);
      const text = formatConfig(config);
      assert.ok(text.includes(`\n${shown}\n`), `${keys}:\n${text}`);
      for (const secret of ["from-file", "from-env", "s%40cret", "s@cret", "hunter2"]) {
        assert.ok(!text.includes(secret), `${keys}:\n${text}`);
      }
      const again = parseConfig(text, { ...options, file: "other.toml" });
      assert.equal(again.redis?.password, reloaded, keys);
      // Only a masked secret differs.
      const redis = { ...again.redis!, password: config.redis!.password };
      if (reloaded === "********") {
        redis.passwordSource = config.redis!.passwordSource;
        if (config.redis!.url) redis.url = config.redis!.url;
      }
      assert.deepEqual(
        { ...again, file: config.file, redis },
        config,
        keys,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatConfig() prints [watchdog] with its socket resolved, and it loads back the same", () => {
  const config = parseConfig(
    '[app]\nexecutable = "/bin/true"\n[watchdog]\ntimeout = "30s"\nsocket = "run/n.sock"\n',
    OFFLINE,
  );
  const text = formatConfig(config);
  assert.ok(
    text.endsWith(
      '[watchdog]\nenabled = true\ntimeout = "30s"\n# silence: not set\nsocket = "/srv/robot/run/n.sock"',
    ),
    text,
  );
  assert.deepEqual(parseConfig(text, OFFLINE).watchdog, config.watchdog);
});

Deno.test("formatConfig() writes [limits] so that it loads back the same", () => {
  const config = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[limits]\nmemory_max = "1.5G"\ncpu_max = "50%"\n',
    OFFLINE,
  );
  const text = formatConfig(config);
  assert.ok(text.includes('\n[limits]\nmemory_max = "1536M"\ncpu_max = "50%"'), text);
  assert.deepEqual(parseConfig(text, OFFLINE).limits, config.limits);
  const unset = formatConfig(parseConfig('[app]\nexecutable = "/bin/x"\n[limits]\n', OFFLINE));
  assert.ok(unset.includes("\n[limits]\n# memory_max: not set\n# cpu_max: not set"), unset);
});
