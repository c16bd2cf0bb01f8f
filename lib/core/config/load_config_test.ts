import assert from "node:assert/strict";
import { errorFrom, fakeEnv, OFFLINE, offline, tempDir, writeScript } from "./_test_helpers.ts";
import { ConfigError } from "../errors.ts";
import type { Config } from "./config.ts";
import { loadConfig, parseConfig, type ParseConfigOptions } from "./load_config.ts";

Deno.test("parseConfig() fills in every default for a config with only an executable", () => {
  const config = parseConfig('[app]\nexecutable = "/opt/robot/bin/arm"\n', OFFLINE);
  const expected: Config = {
    file: "/srv/robot/svc.toml",
    app: {
      executable: "/opt/robot/bin/arm",
      resolvedExecutable: "/opt/robot/bin/arm",
      args: [],
      streamName: "arm",
      cwd: "/srv/robot",
      env: {},
      inheritEnv: true,
      stopGraceMs: 10_000,
    },
    output: {
      echo: true,
      maxLineBytes: 65536,
      multilineStart: ">>|",
      multilineEnd: "|<<",
      multilineMaxLines: 1000,
      multilineMaxBytes: 1048576,
      multilineTimeoutMs: 5000,
      markers: true,
    },
    local: { enabled: true, dir: "/home/ada/.local/state/wrapp/arm", keepRuns: 20 },
    restart: {
      policy: "never",
      delayMs: 1000,
      maxDelayMs: 30_000,
      resetAfterMs: 60_000,
      maxRestarts: 5,
      windowMs: 300_000,
    },
    crash: {
      enabled: true,
      coreDumps: false,
      ebpfBacktrace: true,
      coreTimeoutMs: 10_000,
      gdb: "gdb",
      gdbTimeoutMs: 30_000,
    },
    metrics: { enabled: true, everyMs: 5000 },
  };
  assert.deepEqual(config, expected);
});

Deno.test("parseConfig() reads every key of every section", () => {
  const config = parseConfig(
    `
[app]
executable = "bin/arm"
args = ["--fast", "-v"]
user = "robot"
group = "dialout"
stream_name = "arm.v2"
cwd = "work"
env = { ROS_DOMAIN_ID = "7" }
inherit_env = false
stop_grace = "1m30s"

[output]
echo = false
max_line_bytes = 256
multiline_start = "BEGIN"
multiline_end = "END"
multiline_max_lines = 5
multiline_max_bytes = 100
multiline_timeout = 0.25
markers = false

[local]
enabled = true
dir = "traces"
keep_runs = 3

[restart]
policy = "on-failure"
delay = "250ms"
max_delay = "4s"
reset_after = "10s"
max_restarts = 3
window = "1m"

[crash]
enabled = false
core_dumps = true
core_timeout = "3s"
gdb = "/opt/gdb/bin/gdb"
gdb_timeout = "5s"

[metrics]
enabled = false
every = "10s"

[limits]
memory_max = "512M"
cpu_max = "150%"

[redis]
host = "10.0.0.2"
port = 6380
password = "hunter2"
`,
    OFFLINE,
  );
  const expected: Config = {
    file: "/srv/robot/svc.toml",
    app: {
      executable: "bin/arm",
      resolvedExecutable: "/srv/robot/bin/arm",
      args: ["--fast", "-v"],
      user: "robot",
      group: "dialout",
      streamName: "arm.v2",
      cwd: "/srv/robot/work",
      env: { ROS_DOMAIN_ID: "7" },
      inheritEnv: false,
      stopGraceMs: 90_000,
    },
    output: {
      echo: false,
      maxLineBytes: 256,
      multilineStart: "BEGIN",
      multilineEnd: "END",
      multilineMaxLines: 5,
      multilineMaxBytes: 100,
      multilineTimeoutMs: 250,
      markers: false,
    },
    local: { enabled: true, dir: "/srv/robot/traces", keepRuns: 3 },
    restart: {
      policy: "on-failure",
      delayMs: 250,
      maxDelayMs: 4000,
      resetAfterMs: 10_000,
      maxRestarts: 3,
      windowMs: 60_000,
    },
    crash: {
      enabled: false,
      coreDumps: true,
      ebpfBacktrace: true,
      coreTimeoutMs: 3000,
      gdb: "/opt/gdb/bin/gdb",
      gdbTimeoutMs: 5000,
    },
    metrics: { enabled: false, everyMs: 10_000 },
    limits: { memoryMaxBytes: 512 * 1024 * 1024, cpuMaxPercent: 150 },
    redis: {
      host: "10.0.0.2",
      port: 6380,
      tls: false,
      password: "hunter2",
      passwordSource: "password",
      dbLogs: 1,
      dbValues: 2,
      dbState: 5,
      maxLen: 1000,
      healthIntervalMs: 60_000,
      memoryQueue: 100_000,
      spoolDir: "/home/ada/.local/state/wrapp/arm.v2/spool",
      spoolMaxBytes: 268_435_456,
      policy: "drop_oldest",
      layout: "go",
      replicasAck: 0,
      replicasAckTimeoutMs: 1000,
    },
  };
  assert.deepEqual(config, expected);
});

Deno.test("loadConfig() reports a config file that does not exist", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    loadConfig("nope.toml", { cwd: dir.path }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, 'Cannot read config "nope.toml": no such file or directory');
      return true;
    },
  );
});

Deno.test("loadConfig() resolves paths in the config against the config file's folder", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/conf/bin`, { recursive: true });
  await writeScript(`${dir.path}/conf/bin/run.sh`);
  await Deno.writeTextFile(
    `${dir.path}/conf/svc.toml`,
    '[app]\nexecutable = "bin/run.sh"\ncwd = "bin"\n[local]\ndir = "traces"\n',
  );
  const config = await loadConfig("conf/svc.toml", { cwd: dir.path, uid: 1000 });
  assert.equal(config.file, `${dir.path}/conf/svc.toml`);
  assert.equal(config.app.resolvedExecutable, `${dir.path}/conf/bin/run.sh`);
  assert.equal(config.app.streamName, "run.sh");
  assert.equal(config.app.cwd, `${dir.path}/conf/bin`);
  assert.equal(config.local.dir, `${dir.path}/conf/traces`);
});

Deno.test("loadConfig() reports a TOML syntax error with smol-toml's reason and position", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/x.toml`, '[app]\nexecutable = = "x"\n');
  await assert.rejects(
    loadConfig("x.toml", { cwd: dir.path }),
    new ConfigError('Invalid config "x.toml" at line 2, column 14: invalid value'),
  );
});

Deno.test("parseConfig() requires different multi-line start and end markers", () => {
  assert.equal(
    errorFrom(
      '[app]\nexecutable = "/bin/x"\n[output]\nmultiline_start = "@@"\nmultiline_end = "@@"\n',
    ),
    'Invalid config "svc.toml" at line 5, column 1: "multiline_end" in [output] must differ from "multiline_start", both are "@@"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmultiline_start = "|<<"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "multiline_end" in [output] must differ from "multiline_start", both are "|<<"',
  );
  // "" means not set, as for every optional string key: the default applies.
  assert.equal(
    parseConfig('[app]\nexecutable = "/bin/x"\n[output]\nmultiline_end = ""\n', OFFLINE).output
      .multilineEnd,
    "|<<",
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmultiline_start = "a\\nb"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "multiline_start" in [output] must be a non-empty string without line breaks, got "a\\nb"',
  );
});

Deno.test("parseConfig() only accepts stream names that are safe as Redis keys and folder names", () => {
  const name = (value: string) =>
    errorFrom(`[app]\nexecutable = "/bin/x"\nstream_name = ${JSON.stringify(value)}\n`);
  const expected = (got: string) =>
    `Invalid config "svc.toml" at line 3, column 1: "stream_name" in [app] must be a name of letters, digits, "_", "." and "-" other than "." and "..", got ${got}`;
  assert.equal(name("my app"), expected('"my app"'));
  assert.equal(name("../etc"), expected('"../etc"'));
  assert.equal(name(".."), expected('".."'));
  assert.equal(name("logs:x"), expected('"logs:x"'));
  assert.equal(
    parseConfig('[app]\nexecutable = "/bin/x"\nstream_name = "Arm_2.v-1"\n', OFFLINE).app
      .streamName,
    "Arm_2.v-1",
  );
});

Deno.test("parseConfig() asks for a stream_name when the executable's name cannot be one", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/opt/my tool"\n'),
    'Invalid config "svc.toml" at line 2, column 1: the executable\'s name "my tool" cannot be the stream name: set "stream_name" in [app] to a name of letters, digits, "_", "." and "-" other than "." and ".."',
  );
  const named = parseConfig(
    '[app]\nexecutable = "/opt/my tool"\nstream_name = "tool"\n',
    OFFLINE,
  );
  assert.equal(named.app.streamName, "tool");
});

Deno.test("parseConfig() turns the local trace off by default when [redis] is configured", () => {
  const base = '[app]\nexecutable = "/bin/x"\n';
  assert.equal(parseConfig(base, OFFLINE).local.enabled, true);
  assert.equal(parseConfig(`${base}[redis]\n`, OFFLINE).local.enabled, false);
  assert.equal(
    parseConfig(`${base}[redis]\n[local]\nenabled = true\n`, OFFLINE).local.enabled,
    true,
  );
  assert.equal(parseConfig(`${base}[local]\nenabled = false\n`, OFFLINE).local.enabled, false);
});

Deno.test("parseConfig() fills in [memprof] defaults and checks its listen address", () => {
  const base = '[app]\nexecutable = "/bin/x"\n';
  assert.equal(parseConfig(base, OFFLINE).memprof, undefined);
  assert.deepEqual(parseConfig(`${base}[memprof]\n`, OFFLINE).memprof, {
    enabled: true,
    everyMs: 10_000,
    top: 10,
    listen: "127.0.0.1:17832",
    maxPages: 262_144,
    allPages: false,
  });
  assert.equal(parseConfig(`${base}[memprof]\nenabled = false\n`, OFFLINE).memprof, undefined);
  assert.equal(parseConfig(`${base}[memprof]\nlisten = ""\n`, OFFLINE).memprof?.listen, "");
  assert.equal(parseConfig(`${base}[memprof]\nlisten = "9000"\n`, OFFLINE).memprof?.listen, "9000");
  assert.match(
    errorFrom(`${base}[memprof]\nlisten = "localhost 9000"\n`),
    /line 4, column 1: "listen" in \[memprof\] must be PORT, HOST:PORT, or "" for no server/,
  );
  assert.match(errorFrom(`${base}[memprof]\nevery = "100ms"\n`), /every/);
});

Deno.test("parseConfig() picks the default local trace folder from uid, XDG_STATE_HOME and HOME", () => {
  const text = '[app]\nexecutable = "/bin/x"\nstream_name = "arm"\n';
  const dir = (options: Partial<ParseConfigOptions>) =>
    parseConfig(text, { ...OFFLINE, ...options }).local.dir;
  assert.equal(dir({ uid: 0 }), "/var/lib/wrapp/arm");
  assert.equal(
    dir({ env: fakeEnv({ XDG_STATE_HOME: "/state", HOME: "/home/ada" }) }),
    "/state/wrapp/arm",
  );
  assert.equal(dir({ env: fakeEnv({ HOME: "/home/ada" }) }), "/home/ada/.local/state/wrapp/arm");
  assert.equal(
    dir({ env: fakeEnv({ XDG_STATE_HOME: "relative", HOME: "/home/ada" }) }),
    "/home/ada/.local/state/wrapp/arm",
  );
  assert.equal(
    dir({ uid: null, env: fakeEnv({ HOME: "/home/ada" }) }),
    "/home/ada/.local/state/wrapp/arm",
  );
});

Deno.test("parseConfig() asks for [local] dir when neither XDG_STATE_HOME nor HOME is set", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n', { env: fakeEnv({}) }),
    'Invalid config "svc.toml": cannot choose a folder for the local trace: set "dir" in [local], or $XDG_STATE_HOME or $HOME',
  );
  const withDir = parseConfig('[app]\nexecutable = "/bin/x"\n[local]\ndir = "/data/traces"\n', {
    ...OFFLINE,
    env: fakeEnv({}),
  });
  assert.equal(withDir.local.dir, "/data/traces");
});

Deno.test("parseConfig() accepts a file starting with a byte order mark", () => {
  const config = parseConfig('\uFEFF[app]\nexecutable = "/bin/x"\n', OFFLINE);
  assert.equal(config.app.executable, "/bin/x");
});

Deno.test("parseConfig() accepts sections written as inline tables and dotted keys", () => {
  const config = parseConfig(
    'app = { executable = "/bin/x", args = ["a"] }\noutput.echo = false\n',
    OFFLINE,
  );
  assert.deepEqual(config.app.args, ["a"]);
  assert.equal(config.output.echo, false);
});

Deno.test("parseConfig() refuses a NUL in an env value or an argument: no program can receive it", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = { A = "x\\u0000y" }\n'),
    'Invalid config "svc.toml" at line 3, column 9: "A" in [app.env] must not contain a NUL character',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nargs = ["ok", "a\\u0000b"]\n'),
    'Invalid config "svc.toml" at line 3, column 1: "args" in [app] must not contain a NUL character, found in argument 2',
  );
});

Deno.test("parseConfig() reads [limits] sizes and percentages, and [metrics] can be turned off", () => {
  const config = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[limits]\nmemory_max = "64MiB"\ncpu_max = "250%"\n[metrics]\nenabled = false\n',
    OFFLINE,
  );
  assert.deepEqual(config.limits, { memoryMaxBytes: 64 * 1024 * 1024, cpuMaxPercent: 250 });
  assert.deepEqual(config.metrics, { enabled: false, everyMs: 5000 });
  const bytes = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[limits]\nmemory_max = 2097152\n',
    OFFLINE,
  );
  assert.deepEqual(bytes.limits, { memoryMaxBytes: 2097152 });
  assert.equal(parseConfig('[app]\nexecutable = "/bin/x"\n', OFFLINE).limits, undefined);
});

Deno.test("parseConfig() says what a [limits] value must be", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[limits]\nmemory_max = "lots"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "memory_max" in [limits] must be a size such as "512M", "1G" or a number of bytes (at least 1M), got "lots"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[limits]\nmemory_max = "100K"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "memory_max" in [limits] must be a size such as "512M", "1G" or a number of bytes (at least 1M), got "100K"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[limits]\ncpu_max = 50\n'),
    'Invalid config "svc.toml" at line 4, column 1: "cpu_max" in [limits] must be a percentage such as "50%" (1% to 100000%; above 100% is more than one core), got 50',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[metrics]\nevery = "100ms"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "every" in [metrics] must be a positive duration (seconds, or a string such as "500ms", "10s" or "2m"), got "100ms"',
  );
});

Deno.test("parseConfig() reads [limits] and [metrics] from a JSON config too", () => {
  const config = parseConfig(
    JSON.stringify({
      app: { executable: "/bin/x" },
      metrics: { every: "2s" },
      limits: { memory_max: "1G" },
    }),
    offline("svc.json"),
  );
  assert.deepEqual(config.metrics, { enabled: true, everyMs: 2000 });
  assert.deepEqual(config.limits, { memoryMaxBytes: 1024 ** 3 });
});
