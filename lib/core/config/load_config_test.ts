import assert from "node:assert/strict";
import { configErrorFrom, fakeEnv, offline, tempDir as tempFolder } from "./_test_helpers.ts";
import { ConfigError } from "../errors.ts";
import type { Config } from "./config.ts";
import { loadConfig, parseConfig, type ParseConfigOptions } from "./load_config.ts";

/** Parse options that touch neither the filesystem nor the real environment. */
const OFFLINE: ParseConfigOptions = offline("svc.toml");

/** The message of the ConfigError that parsing `text` throws. */
function errorFrom(text: string, options: Partial<ParseConfigOptions> = {}): string {
  return configErrorFrom(text, { ...OFFLINE, ...options });
}

function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  return tempFolder("wrapp_config_");
}

async function writeScript(path: string, mode = 0o755): Promise<void> {
  await Deno.writeTextFile(path, "#!/bin/sh\necho hi\n");
  await Deno.chmod(path, mode);
}

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

Deno.test("parseConfig() reads durations as seconds or as strings with units", () => {
  const grace = (value: string) =>
    parseConfig(`[app]\nexecutable = "/bin/x"\nstop_grace = ${value}\n`, OFFLINE).app.stopGraceMs;
  assert.equal(grace("3"), 3000);
  assert.equal(grace("2.5"), 2500);
  assert.equal(grace("0"), 0);
  assert.equal(grace('"500ms"'), 500);
  assert.equal(grace('"10s"'), 10_000);
  assert.equal(grace('"2m"'), 120_000);
  assert.equal(grace('"1h"'), 3_600_000);
  assert.equal(grace('"1.5s"'), 1500);
});

Deno.test("parseConfig() rejects a duration it cannot read", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nstop_grace = "soon"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "stop_grace" in [app] must be a duration (seconds, or a string such as "500ms", "10s" or "2m"), got "soon"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nstop_grace = -1\n'),
    'Invalid config "svc.toml" at line 3, column 1: "stop_grace" in [app] must be a duration (seconds, or a string such as "500ms", "10s" or "2m"), got -1',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmultiline_timeout = "0s"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "multiline_timeout" in [output] must be a positive duration (seconds, or a string such as "500ms", "10s" or "2m"), got "0s"',
  );
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

Deno.test("parseConfig() reports a key defined twice as a syntax error on its second line", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/a"\nexecutable = "/bin/b"\n'),
    'Invalid config "svc.toml" at line 3, column 1: trying to redefine an already defined table or value',
  );
});

Deno.test("parseConfig() reports an unknown key with a did-you-mean at the key's position", () => {
  assert.equal(
    errorFrom('# service\n[app]\nargs = []\n  exectuable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 4, column 3: unknown key "exectuable" in [app] (did you mean "executable"?)',
  );
});

Deno.test("parseConfig() reports an unknown key without a suggestion when nothing is close", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\ncolour = true\n'),
    'Invalid config "svc.toml" at line 4, column 1: unknown key "colour" in [output]',
  );
});

Deno.test("parseConfig() reports an unknown dotted key where the dotted key starts", () => {
  assert.equal(
    errorFrom('\n  app.exectuable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 2, column 3: unknown key "exectuable" in [app] (did you mean "executable"?)',
  );
});

Deno.test("parseConfig() reports an unknown sub-table of a section as an unknown key", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n\n[app.envs]\nA = "1"\n'),
    'Invalid config "svc.toml" at line 4, column 1: unknown key "envs" in [app] (did you mean "env"?)',
  );
});

Deno.test("parseConfig() reports an unknown section with a did-you-mean", () => {
  assert.equal(
    errorFrom('[ap]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown section [ap] (did you mean [app]?)',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[prometheus]\nport = 1\n'),
    'Invalid config "svc.toml" at line 3, column 1: unknown section [prometheus]',
  );
});

Deno.test("parseConfig() says which section a key written before any section belongs to", () => {
  assert.equal(
    errorFrom('executable = "/bin/x"\n[app]\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown top-level key "executable" (did you mean to put it in [app]?)',
  );
  assert.equal(
    errorFrom('verbose = true\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown top-level key "verbose": every key belongs in a section such as [app]',
  );
});

Deno.test("parseConfig() rejects a section that is not a table", () => {
  assert.equal(
    errorFrom('output = 5\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: [output] must be a table, got 5',
  );
});

Deno.test("parseConfig() treats a key named like an Object.prototype property as unknown", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n"__proto__" = 1\n'),
    'Invalid config "svc.toml" at line 3, column 1: unknown key "__proto__" in [app]',
  );
  assert.equal(
    errorFrom('[constructor]\n[app]\nexecutable = "/bin/x"\n'),
    'Invalid config "svc.toml" at line 1, column 1: unknown section [constructor]',
  );
});

Deno.test("parseConfig() reports a value of the wrong type with the value it got", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = "big"\n'),
    'Invalid config "svc.toml" at line 4, column 1: "max_line_bytes" in [output] must be an integer between 256 and 16777216, got "big"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\ninherit_env = "yes"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "inherit_env" in [app] must be true or false, got "yes"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nargs = "--fast"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "args" in [app] must be an array of strings, got "--fast"',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nargs = ["-n", 3]\n'),
    'Invalid config "svc.toml" at line 3, column 1: "args" in [app] must be an array of strings, got ["-n", 3]',
  );
  assert.equal(
    errorFrom("[app]\nexecutable = 42\n"),
    'Invalid config "svc.toml" at line 2, column 1: "executable" in [app] must be a non-empty string, got 42',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = ""\n'),
    'Invalid config "svc.toml" at line 2, column 1: "executable" in [app] must be a non-empty string, got ""',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = "A=1"\n'),
    'Invalid config "svc.toml" at line 3, column 1: "env" in [app] must be a table of strings, got "A=1"',
  );
});

Deno.test("parseConfig() shows tables, dates and special floats TOML-style in type errors", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nuser = { name = "ada", "full name" = "Ada L" }\n'),
    'Invalid config "svc.toml" at line 3, column 1: "user" in [app] must be a non-empty string, got { name = "ada", "full name" = "Ada L" }',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = 1979-05-27\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got 1979-05-27',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = inf\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got inf',
  );
});

Deno.test("parseConfig() enforces integer bounds and rejects fractions", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = 100\n'),
    'Invalid config "svc.toml" at line 4, column 1: "max_line_bytes" in [output] must be an integer between 256 and 16777216, got 100',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[local]\nkeep_runs = 1.5\n'),
    'Invalid config "svc.toml" at line 4, column 1: "keep_runs" in [local] must be an integer of at least 1, got 1.5',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n[redis]\nport = 70000\n'),
    'Invalid config "svc.toml" at line 4, column 1: "port" in [redis] must be an integer between 1 and 65535, got 70000',
  );
  const limits = parseConfig(
    '[app]\nexecutable = "/bin/x"\n[output]\nmax_line_bytes = 16777216\n[redis]\nport = 1\n',
    OFFLINE,
  );
  assert.equal(limits.output.maxLineBytes, 16777216);
  assert.equal(limits.redis?.port, 1);
});

Deno.test("parseConfig() points at the environment variable whose value is not a string", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\n\n[app.env]\nHOST = "a"\nPORT = 8080\n'),
    'Invalid config "svc.toml" at line 6, column 1: "PORT" in [app.env] must be a string, got 8080',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = { DEBUG = true, HOST = "a" }\n'),
    'Invalid config "svc.toml" at line 3, column 9: "DEBUG" in [app.env] must be a string, got true',
  );
  assert.equal(
    errorFrom('[app]\nexecutable = "/bin/x"\nenv = { "A=B" = "1" }\n'),
    'Invalid config "svc.toml" at line 3, column 9: "A=B" in [app.env] is not a valid environment variable name',
  );
});

Deno.test("parseConfig() reports a missing executable and a missing [app] section", () => {
  assert.equal(
    errorFrom('[app]\nargs = ["-v"]\n'),
    'Invalid config "svc.toml": missing required key "executable" in [app]',
  );
  assert.equal(
    errorFrom("[output]\necho = false\n"),
    'Invalid config "svc.toml": missing required section [app]',
  );
  assert.equal(errorFrom(""), 'Invalid config "svc.toml": missing required section [app]');
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

Deno.test("parseConfig() reports an executable path that does not exist", () => {
  assert.equal(
    errorFrom('[app]\nexecutable = "/usr/bin/nope-wrapp-test"\n', { checkExecutable: true }),
    'Invalid config "svc.toml" at line 2, column 1: executable "/usr/bin/nope-wrapp-test" does not exist',
  );
});

Deno.test("loadConfig() reports an executable without any execute bit, or a directory", async () => {
  await using dir = await tempDir();
  await writeScript(`${dir.path}/x.sh`, 0o644);
  await Deno.mkdir(`${dir.path}/folder`);
  await Deno.writeTextFile(`${dir.path}/a.toml`, '[app]\nexecutable = "./x.sh"\n');
  await Deno.writeTextFile(`${dir.path}/b.toml`, '[app]\n\nexecutable = "./folder"\n');
  await assert.rejects(
    loadConfig("a.toml", { cwd: dir.path }),
    new ConfigError(
      'Invalid config "a.toml" at line 2, column 1: executable "./x.sh" is not executable',
    ),
  );
  await assert.rejects(
    loadConfig("b.toml", { cwd: dir.path }),
    new ConfigError(
      'Invalid config "b.toml" at line 3, column 1: executable "./folder" is not executable',
    ),
  );
  // The execute bit of any class will do: the service may run as another user.
  await Deno.chmod(`${dir.path}/x.sh`, 0o641);
  const config = await loadConfig("a.toml", { cwd: dir.path, uid: 1000 });
  assert.equal(config.app.resolvedExecutable, `${dir.path}/x.sh`);
});

Deno.test("loadConfig() looks a bare executable name up in the PATH of the given env", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/bin`);
  await Deno.mkdir(`${dir.path}/other`);
  await writeScript(`${dir.path}/bin/tool`);
  await writeScript(`${dir.path}/other/tool`, 0o644); // not executable: skipped
  await Deno.writeTextFile(`${dir.path}/svc.toml`, '[app]\nexecutable = "tool"\n');
  // HOME inside the test folder: loadConfig() checks the local trace folder can be written.
  const env = fakeEnv({ PATH: `relative:${dir.path}/other:${dir.path}/bin`, HOME: dir.path });
  const config = await loadConfig("svc.toml", { cwd: dir.path, env, uid: 1000 });
  assert.equal(config.app.executable, "tool");
  assert.equal(config.app.resolvedExecutable, `${dir.path}/bin/tool`);
  assert.equal(config.app.streamName, "tool");

  await assert.rejects(
    loadConfig("svc.toml", { cwd: dir.path, env: fakeEnv({ PATH: `${dir.path}/other` }) }),
    new ConfigError(
      'Invalid config "svc.toml" at line 2, column 1: executable "tool" was not found in PATH',
    ),
  );
});

Deno.test("loadConfig() prefers the PATH set in [app.env] to find a bare executable name", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/bin`);
  await writeScript(`${dir.path}/bin/tool`);
  await Deno.writeTextFile(
    `${dir.path}/svc.toml`,
    `[app]\nexecutable = "tool"\nenv = { PATH = "${dir.path}/bin" }\n`,
  );
  const config = await loadConfig("svc.toml", {
    cwd: dir.path,
    env: fakeEnv({ PATH: "/nonexistent", HOME: "/home/ada" }),
    uid: 1000,
  });
  assert.equal(config.app.resolvedExecutable, `${dir.path}/bin/tool`);
});

Deno.test("parseConfig() skips the filesystem when checkExecutable is false", () => {
  const bare = parseConfig(
    '[app]\nexecutable = "no-such-tool-wrapp"\ncwd = "/no/such/dir"\n',
    OFFLINE,
  );
  assert.equal(bare.app.resolvedExecutable, "no-such-tool-wrapp");
  assert.equal(bare.app.cwd, "/no/such/dir");
  const relative = parseConfig('[app]\nexecutable = "./bin/nope"\n', OFFLINE);
  assert.equal(relative.app.resolvedExecutable, "/srv/robot/bin/nope");
});

Deno.test("loadConfig() reports a cwd that does not exist or is not a directory", async () => {
  await using dir = await tempDir();
  await writeScript(`${dir.path}/run.sh`);
  await Deno.writeTextFile(
    `${dir.path}/a.toml`,
    '[app]\nexecutable = "./run.sh"\ncwd = "missing"\n',
  );
  await Deno.writeTextFile(
    `${dir.path}/b.toml`,
    '[app]\nexecutable = "./run.sh"\n  cwd = "run.sh"\n',
  );
  await assert.rejects(
    loadConfig("a.toml", { cwd: dir.path }),
    new ConfigError('Invalid config "a.toml" at line 3, column 1: cwd "missing" does not exist'),
  );
  await assert.rejects(
    loadConfig("b.toml", { cwd: dir.path }),
    new ConfigError('Invalid config "b.toml" at line 3, column 3: cwd "run.sh" is not a directory'),
  );
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

Deno.test("loadConfig() refuses a user or a group that does not exist, as run would", async () => {
  await using dir = await tempDir();
  const text = (line: string) =>
    `[app]\nexecutable = "/bin/true"\n${line}\n[local]\ndir = "${dir.path}/traces"\n`;
  await Deno.writeTextFile(`${dir.path}/u.toml`, text('user = "no-such-user-wrapp"'));
  await Deno.writeTextFile(`${dir.path}/g.toml`, text('group = "no-such-group-wrapp"'));
  await Deno.writeTextFile(`${dir.path}/ok.toml`, text('user = "root"\ngroup = "0"'));
  await assert.rejects(
    loadConfig("u.toml", { cwd: dir.path }),
    new ConfigError(
      'Invalid config "u.toml" at line 3, column 1: user "no-such-user-wrapp" in [app] does not exist on this machine',
    ),
  );
  await assert.rejects(
    loadConfig("g.toml", { cwd: dir.path }),
    new ConfigError(
      'Invalid config "g.toml" at line 3, column 1: group "no-such-group-wrapp" in [app] does not exist on this machine',
    ),
  );
  // Existing ones pass; whether wrapp may switch to them (root) is run's business.
  assert.equal((await loadConfig("ok.toml", { cwd: dir.path })).app.user, "root");
  // Without the machine checks, names are not looked up.
  await loadConfig("u.toml", { cwd: dir.path, checkExecutable: false });
});

/** Make `path` a folder nobody may create files in: mode 0555, and immutable for root. */
async function readOnlyFolder(path: string): Promise<AsyncDisposable> {
  await Deno.mkdir(path);
  await Deno.chmod(path, 0o555);
  const root = Deno.uid() === 0;
  const chattr = (flag: string) => new Deno.Command("chattr", { args: [flag, path] }).output();
  if (root) {
    const result = await chattr("+i");
    assert.ok(result.success, `chattr +i ${path}: ${new TextDecoder().decode(result.stderr)}`);
  }
  return {
    [Symbol.asyncDispose]: async () => {
      if (root) await chattr("-i");
      await Deno.chmod(path, 0o755);
    },
  };
}

Deno.test("parseConfig() refuses a local trace or spool folder that cannot be created or written", async () => {
  await using dir = await tempDir();
  await using _ro = await readOnlyFolder(`${dir.path}/ro`);
  await Deno.writeTextFile(`${dir.path}/file`, "");
  const options = {
    file: `${dir.path}/svc.toml`,
    uid: 1000,
    env: fakeEnv({ HOME: dir.path }),
    checkExecutable: true,
  };
  const text = (extra: string) => `[app]\nexecutable = "/bin/true"\n${extra}\n`;
  assert.equal(
    errorFrom(text(`[local]\ndir = "${dir.path}/ro/traces"`), options),
    `Invalid config "${dir.path}/svc.toml" at line 4, column 1: the local trace folder "${dir.path}/ro/traces" is not writable (it would be created in "${dir.path}/ro"): permission denied`,
  );
  assert.equal(
    errorFrom(text(`[local]\ndir = "${dir.path}/ro"`), options),
    `Invalid config "${dir.path}/svc.toml" at line 4, column 1: the local trace folder "${dir.path}/ro" is not writable: permission denied`,
  );
  assert.equal(
    errorFrom(text(`[local]\ndir = "${dir.path}/file/traces"`), options),
    `Invalid config "${dir.path}/svc.toml" at line 4, column 1: the local trace folder "${dir.path}/file/traces" cannot be created: "${dir.path}/file" is not a folder`,
  );
  assert.equal(
    errorFrom(text(`[redis]\nspool_dir = "${dir.path}/ro/spool"`), options),
    `Invalid config "${dir.path}/svc.toml" at line 4, column 1: the Redis spool folder "${dir.path}/ro/spool" is not writable (it would be created in "${dir.path}/ro"): permission denied`,
  );
  // A local trace that is off is not checked; the check leaves nothing behind.
  parseConfig(text(`[local]\nenabled = false\ndir = "${dir.path}/ro/traces"`), options);
  parseConfig(text(`[local]\ndir = "${dir.path}/new/traces"`), options);
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), ["file", "ro"]);
});

Deno.test("parseConfig() refuses a stream name too long to be a folder name, where it becomes one", () => {
  const name = "s".repeat(256);
  const options = { cwd: "/", uid: 1000, env: fakeEnv({ HOME: "/tmp" }), checkExecutable: true };
  const message = errorFrom(`[app]\nexecutable = "/bin/true"\nstream_name = "${name}"\n`, options);
  assert.equal(
    message,
    `Invalid config "svc.toml" at line 3, column 1: the local trace folder "/tmp/.local/state/wrapp/${
      "s".repeat(33)
    }..." cannot be created: its folder name "${
      "s".repeat(57)
    }..." (the stream name) is 256 bytes, more than the 255 a name may have; set a shorter "stream_name" in [app], or "dir" in [local]`,
  );
  assert.match(
    errorFrom(`[app]\nexecutable = "/bin/true"\nstream_name = "${name}"\n[redis]\n`, options),
    /at line 3, column 1: the Redis spool folder "\/tmp\/\.local\/state\/wrapp\/s+\.\.\." cannot be created: its folder name "s+\.\.\." \(the stream name\) is 256 bytes, more than the 255 a name may have; set a shorter "stream_name" in \[app\], or "spool_dir" in \[redis\]$/,
  );
  // 255 bytes fit; with [local] dir set, the name is no folder.
  parseConfig(`[app]\nexecutable = "/bin/true"\nstream_name = "${"s".repeat(255)}"\n`, {
    ...OFFLINE,
    ...options,
  });
  parseConfig(
    `[app]\nexecutable = "/bin/true"\nstream_name = "${name}"\n[local]\ndir = "/tmp/x"\n`,
    { ...OFFLINE, ...options },
  );
});

Deno.test("parseConfig() reads [watchdog], with its notify socket under the runtime folder", () => {
  const config = parseConfig(
    `[app]\nexecutable = "/bin/true"\nstream_name = "arm"\n[watchdog]\ntimeout = "30s"\nsilence = "2m"\n`,
    {
      ...offline("svc.toml"),
      env: fakeEnv({ HOME: "/home/ada", XDG_RUNTIME_DIR: "/run/user/1000" }),
    },
  );
  assert.deepEqual(config.watchdog, {
    enabled: true,
    timeoutMs: 30_000,
    silenceMs: 120_000,
    socket: "/run/user/1000/wrapp/arm/notify.sock",
  });
  const root = parseConfig(`[app]\nexecutable = "/bin/true"\n[watchdog]\n`, {
    ...offline("svc.toml"),
    uid: 0,
  });
  assert.deepEqual(root.watchdog, { enabled: true, socket: "/run/wrapp/true/notify.sock" });
  const off = parseConfig(`[app]\nexecutable = "/bin/true"\n[watchdog]\nenabled = false\n`, {
    ...offline("svc.toml"),
  });
  assert.equal(off.watchdog, undefined);
  assert.equal(
    parseConfig(`[app]\nexecutable = "/bin/true"\n`, offline("svc.toml")).watchdog,
    undefined,
  );
});

Deno.test("parseConfig() reads [watchdog] of a JSON config too, its socket relative to the file", () => {
  const config = parseConfig(
    `{"app": {"executable": "/bin/true"}, "watchdog": {"timeout": 2.5, "socket": "run/n.sock"}}`,
    offline("svc.json"),
  );
  assert.deepEqual(config.watchdog, {
    enabled: true,
    timeoutMs: 2500,
    socket: "/srv/robot/run/n.sock",
  });
});

Deno.test("parseConfig() refuses a [watchdog] socket path too long for a unix socket", () => {
  const message = configErrorFrom(
    `[app]\nexecutable = "/bin/true"\n[watchdog]\nsocket = "/${"s".repeat(120)}"\n`,
    offline("svc.toml"),
  );
  assert.match(
    message,
    /^Invalid config "svc\.toml" at line 4, column 1: the notify socket "\/s+\.\.\." is 121 bytes long, more than the 107 a unix socket's path may have; set a shorter "socket" in \[watchdog\]$/,
  );
  assert.match(
    configErrorFrom(
      `[app]\nexecutable = "/bin/true"\n[watchdog]\ntimeout = "0s"\n`,
      offline("svc.toml"),
    ),
    /"timeout" in \[watchdog\] must be a positive duration/,
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
