/**
 * Configs written for the Go wrapp: its TOML version (`password = ""`, `user = ""`) and its
 * JSON version (`secrets_dir`, `debug`, `_` comment keys), read by {@linkcode loadConfig}.
 */

import assert from "node:assert/strict";
import { configErrorFrom, offline, tempDir as tempFolder } from "./_test_helpers.ts";
import { CONFIG_SCHEMA, loadConfig, parseConfig, type ParseConfigOptions } from "./load_config.ts";

/** Parse options that touch neither the filesystem nor the real environment. */
const OFFLINE: ParseConfigOptions = offline("svc.json");

/** The message of the ConfigError that parsing `text` throws. */
function errorFrom(text: string, options: Partial<ParseConfigOptions> = {}): string {
  return configErrorFrom(text, { ...OFFLINE, ...options });
}

function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  return tempFolder("wrapp_go_config_");
}

/** `<parent>/<user>/password` holding `content`; returns the folder. */
async function secretsFolder(parent: string, user: string, content: string): Promise<string> {
  const dir = `${parent}/${user}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/password`, content);
  return dir;
}

Deno.test('parseConfig() reads "" as not set for optional string keys, as the Go wrapp does', () => {
  const toml = { ...OFFLINE, file: "svc.toml" };
  const config = parseConfig(
    [
      "[redis]",
      'host = "redis.local"',
      "port = 6379",
      'password = ""',
      "[app]",
      'executable = "/opt/tools/report"',
      'args = ["--once"]',
      'user = ""',
      'stream_name = "report"',
    ].join("\n"),
    toml,
  );
  assert.equal(config.app.user, undefined);
  assert.equal(config.redis?.password, undefined);
  assert.equal(config.redis?.host, "redis.local");
  assert.equal(config.app.streamName, "report");

  // Every such key, in every section: "" gives the same config as leaving the key out.
  let checked = 0;
  for (const [section, spec] of Object.entries(CONFIG_SCHEMA)) {
    for (const [key, field] of Object.entries(spec.fields)) {
      if (field.kind !== "string" || field.required || field.pattern?.test("")) continue;
      const head = section === "app" ? "[app]\n" : `[app]\nexecutable = "/bin/x"\n[${section}]\n`;
      const tail = section === "app" ? 'executable = "/bin/x"\n' : "";
      const withEmpty = parseConfig(`${head}${key} = ""\n${tail}`, toml);
      assert.deepEqual(withEmpty, parseConfig(`${head}${tail}`, toml), `${key} in [${section}]`);
      checked++;
    }
  }
  assert.ok(checked >= 19, `only ${checked} keys checked`);
});

Deno.test('parseConfig() keeps "" where it has a meaning, and refuses an empty executable', () => {
  assert.equal(
    parseConfig('[app]\nexecutable = "/bin/x"\n[memprof]\nlisten = ""\n', {
      ...OFFLINE,
      file: "svc.toml",
    }).memprof?.listen,
    "",
  );
  assert.equal(
    errorFrom('{\n  "app": {\n    "executable": ""\n  }\n}'),
    'Invalid config "svc.json" at line 3, column 5: "executable" in [app] must be a non-empty string, got ""',
  );
});

Deno.test("parseConfig() reads a .json config with the same sections and keys as TOML", () => {
  const toml = `
[app]
executable = "bin/arm"
args = ["--fast"]
user = "robot"
group = "dialout"
stream_name = "arm"
cwd = "work"
env = { ROS_DOMAIN_ID = "7" }
inherit_env = false
stop_grace = "2s"

[output]
echo = false
max_line_bytes = 1024
multiline_start = "BEGIN"
multiline_end = "END"
multiline_timeout = 1.5
markers = false

[local]
enabled = true
dir = "traces"
keep_runs = 3

[restart]
policy = "on-failure"
delay = "250ms"

[crash]
core_dumps = true
gdb_timeout = 5

[trace]
threshold = 2.5
slow = "20ms"

[memprof]
every = "5s"
listen = ""

[redis]
host = "10.0.0.2"
port = 6380
db_logs = 3
spool_dir = "spool"
policy = "block"

[debug]
enabled = true
host = "0.0.0.0"
port = 2400
`;
  const json = `{
  "app": {
    "executable": "bin/arm",
    "args": ["--fast"],
    "user": "robot",
    "group": "dialout",
    "stream_name": "arm",
    "cwd": "work",
    "env": {"ROS_DOMAIN_ID": "7"},
    "inherit_env": false,
    "stop_grace": "2s"
  },
  "output": {
    "echo": false, "max_line_bytes": 1024, "multiline_start": "BEGIN", "multiline_end": "END",
    "multiline_timeout": 1.5, "markers": false
  },
  "local": {"enabled": true, "dir": "traces", "keep_runs": 3},
  "restart": {"policy": "on-failure", "delay": "250ms"},
  "crash": {"core_dumps": true, "gdb_timeout": 5},
  "trace": {"threshold": 2.5, "slow": "20ms"},
  "memprof": {"every": "5s", "listen": ""},
  "redis": {"host": "10.0.0.2", "port": 6380, "db_logs": 3, "spool_dir": "spool", "policy": "block"},
  "debug": {"enabled": true, "host": "0.0.0.0", "port": 2400}
}`;
  const fromToml = parseConfig(toml, { ...OFFLINE, file: "svc.toml" });
  const fromJson = parseConfig(json, OFFLINE);
  assert.deepEqual(fromJson, { ...fromToml, file: "/srv/robot/svc.json" });
  assert.equal(fromJson.app.resolvedExecutable, "/srv/robot/bin/arm");
  assert.equal(fromJson.redis?.dbLogs, 3);
  assert.deepEqual(fromJson.debug, { enabled: true, host: "0.0.0.0", port: 2400 });
});

Deno.test('parseConfig() ignores JSON keys starting with "_", whatever their value', () => {
  const config = parseConfig(
    JSON.stringify({
      _description: "Sensor bridge, started by systemd",
      app: {
        _why: ["two", "lines"],
        executable: "/usr/bin/bridge",
        _n: 3,
        _nested: { executable: 42, nonsense: true },
      },
      _steps: ["build it:", "  make bridge", ""],
      _null: null,
      output: { _: "", echo: false },
    }),
    OFFLINE,
  );
  assert.equal(config.app.executable, "/usr/bin/bridge");
  assert.equal(config.output.echo, false);
  // Not in TOML: there "_" keys are ordinary (unknown) keys.
  assert.match(
    errorFrom('_comment = "x"\n[app]\nexecutable = "/bin/x"\n', { file: "svc.toml" }),
    /unknown top-level key "_comment"/,
  );
});

Deno.test("parseConfig() reads JSON null as not set", () => {
  const config = parseConfig(
    '{"app": {"executable": "/bin/x", "user": null, "args": null}, "redis": null}',
    OFFLINE,
  );
  assert.equal(config.app.user, undefined);
  assert.deepEqual(config.app.args, []);
  assert.equal(config.redis, undefined);
  assert.match(errorFrom('{"app": null}'), /missing required section \[app\]/);
});

Deno.test("parseConfig() reports a JSON syntax error with its line and column, never as TOML", () => {
  const message = errorFrom('{\n  "app": {\n    "executable": "/bin/x",\n  }\n}');
  assert.equal(
    message,
    'Invalid config "svc.json" at line 4, column 3: invalid JSON: expected a key after the comma (JSON allows no comma before })',
  );
  assert.equal(
    errorFrom('{\n  "redis": {"port": 6379 "host": "x"}\n}'),
    'Invalid config "svc.json" at line 2, column 26: invalid JSON: expected "," or "}" after the value of "port", got "\\""',
  );
  assert.equal(
    errorFrom(""),
    'Invalid config "svc.json" at line 1, column 1: invalid JSON: expected a value (a string, number, object, array, true, false or null), got the end of the file',
  );
  for (const text of ["", "{", '[app]\nexecutable = "/bin/x"\n', '{"a": 1} // c']) {
    assert.doesNotMatch(errorFrom(text), /toml/i, text);
  }
  assert.equal(
    errorFrom('["app"]'),
    'Invalid config "svc.json": a JSON config must be an object such as {"app": {"executable": "…"}}, got ["app"]',
  );
});

Deno.test("parseConfig() says a JSON config needs a .json name when it reads one as TOML", () => {
  assert.match(
    errorFrom('{\n  "app": {"executable": "/bin/x"}\n}\n', { file: "svc.conf" }),
    /^Invalid config "svc\.conf" at line 1, column 1: .+ \(read as TOML: a JSON config must have a name ending in "\.json"\)$/,
  );
  // The format option overrides the name.
  const config = parseConfig('{"app": {"executable": "/bin/x"}}', {
    ...OFFLINE,
    file: "svc.conf",
    format: "json",
  });
  assert.equal(config.app.executable, "/bin/x");
  assert.equal(
    parseConfig('[app]\nexecutable = "/bin/y"\n', { ...OFFLINE, format: "toml" }).app.executable,
    "/bin/y",
  );
});

Deno.test("parseConfig() places errors about JSON keys at the key's line and column", () => {
  assert.equal(
    errorFrom('{\n  "app": {\n    "executable": "/bin/x",\n    "exectuable": "/bin/y"\n  }\n}'),
    'Invalid config "svc.json" at line 4, column 5: unknown key "exectuable" in [app] (did you mean "executable"?)',
  );
  assert.equal(
    errorFrom('{\n  "app": {"executable": "/bin/x"},\n  "reddis": {}\n}'),
    'Invalid config "svc.json" at line 3, column 3: unknown section [reddis] (did you mean [redis]?)',
  );
  assert.equal(
    errorFrom('{"app": {"executable": "/bin/x"},\n "redis": {\n  "port": "6379"}}'),
    'Invalid config "svc.json" at line 3, column 3: "port" in [redis] must be an integer between 1 and 65535, got "6379"',
  );
  assert.equal(
    errorFrom('{"app": {"executable": "/bin/x", "env": {"A": 1}}}'),
    'Invalid config "svc.json" at line 1, column 42: "A" in [app.env] must be a string, got 1',
  );
  assert.equal(
    errorFrom('{"app": {"executable": "/bin/x"}, "output": [1, {"a": true}]}'),
    'Invalid config "svc.json" at line 1, column 35: [output] must be an object, got [1,{"a":true}]',
  );
  assert.equal(
    errorFrom('{"executable": "/bin/x"}'),
    'Invalid config "svc.json" at line 1, column 2: unknown top-level key "executable" (did you mean to put it in [app]?)',
  );
});

Deno.test("loadConfig() takes the Redis user and password from secrets_dir", async () => {
  await using dir = await tempDir();
  await secretsFolder(`${dir.path}/conf/secrets`, "wrapp", "  s3cret pass \n\n");
  const path = `${dir.path}/conf/svc.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      redis: { host: "localhost", port: 6379, secrets_dir: "secrets/wrapp/" },
      app: { executable: "/bin/sh" },
    }),
  );
  const redis = (await loadConfig(path, { uid: 1000 })).redis!;
  assert.equal(redis.username, "wrapp");
  assert.equal(redis.password, "s3cret pass");
  assert.equal(redis.passwordSource, "secrets_dir");
  assert.equal(redis.secretsDir, `${dir.path}/conf/secrets/wrapp`);
  assert.equal(redis.host, "localhost");

  // The same in TOML, with an absolute path.
  const toml = parseConfig(
    `[app]\nexecutable = "/bin/sh"\n[redis]\nsecrets_dir = "${dir.path}/conf/secrets/wrapp"\n`,
    { ...OFFLINE, file: "svc.toml" },
  ).redis!;
  assert.deepEqual([toml.username, toml.password], ["wrapp", "s3cret pass"]);
});

Deno.test("parseConfig() names the path when secrets_dir or its password file is missing or empty", async () => {
  await using dir = await tempDir();
  const config = (secrets: string) =>
    `{\n  "app": {"executable": "/bin/x"},\n  "redis": {\n    "secrets_dir": ${
      JSON.stringify(secrets)
    }\n  }\n}`;
  const at = 'Invalid config "svc.json" at line 4, column 5:';
  assert.equal(
    errorFrom(config(`${dir.path}/absent`)),
    `${at} secrets_dir "${dir.path}/absent" does not exist`,
  );
  assert.equal(
    errorFrom(config("absent"), { cwd: dir.path }),
    `${at} secrets_dir "${dir.path}/absent" does not exist`,
  );
  await Deno.writeTextFile(`${dir.path}/file`, "x");
  assert.equal(
    errorFrom(config(`${dir.path}/file`)),
    `${at} secrets_dir "${dir.path}/file" is not a directory`,
  );
  await Deno.mkdir(`${dir.path}/nopass`);
  assert.equal(
    errorFrom(config(`${dir.path}/nopass`)),
    `${at} secrets_dir "${dir.path}/nopass" has no password file: "${dir.path}/nopass/password" does not exist`,
  );
  await secretsFolder(dir.path, "blank", " \n\t\n");
  assert.equal(
    errorFrom(config(`${dir.path}/blank`)),
    `${at} the Redis password file "${dir.path}/blank/password" is empty`,
  );
  await Deno.mkdir(`${dir.path}/odd/password`, { recursive: true });
  assert.match(
    errorFrom(config(`${dir.path}/odd`)),
    new RegExp(`^${at} cannot read the Redis password from "${dir.path}/odd/password": .+`),
  );
});

Deno.test("parseConfig() asks to keep one of secrets_dir and other Redis credentials", async () => {
  await using dir = await tempDir();
  const secrets = await secretsFolder(dir.path, "wrapp", "pw");
  await Deno.writeTextFile(`${dir.path}/pw`, "other");
  const config = (extra: string) =>
    `[app]\nexecutable = "/bin/x"\n[redis]\n${extra}\nsecrets_dir = "${secrets}"\n`;
  const toml = { file: "svc.toml" };
  const keepOne = (what: string) =>
    `Invalid config "svc.toml" at line 5, column 1: "secrets_dir" and ${what} in [redis] are both set: keep one (secrets_dir gives the user name and the password)`;
  assert.equal(errorFrom(config('password = "p"'), toml), keepOne('"password"'));
  assert.equal(
    errorFrom(config(`password_file = "${dir.path}/pw"`), toml),
    keepOne('"password_file"'),
  );
  assert.equal(errorFrom(config('username = "bob"'), toml), keepOne('"username"'));
  assert.equal(
    errorFrom(config('url = "redis://bob:p@10.0.0.2:6379"'), toml),
    keepOne('the credentials in "url"'),
  );
  assert.equal(
    errorFrom(config('url = "redis://bob@10.0.0.2:6379"'), toml),
    keepOne('the credentials in "url"'),
  );
  // A URL without credentials only gives the address; "" is not set.
  const redis = parseConfig(config('url = "redis://10.0.0.2:6390"\npassword = ""'), {
    ...OFFLINE,
    ...toml,
  }).redis!;
  assert.deepEqual([redis.host, redis.port, redis.username, redis.password], [
    "10.0.0.2",
    6390,
    "wrapp",
    "pw",
  ]);
});

Deno.test("loadConfig() accepts configs shaped like the Go wrapp's examples, TOML and JSON", async () => {
  await using dir = await tempDir();
  const secrets = await secretsFolder(`${dir.path}/vault/redis`, "logger", "hunter2\n");
  const tool = `${dir.path}/tool`;
  await Deno.writeTextFile(tool, "#!/bin/sh\necho hi\n", { mode: 0o755 });
  const vars: Record<string, string> = { PATH: `${dir.path}:/usr/bin:/bin`, HOME: dir.path };
  const env = (name: string) => vars[name];
  const files: Record<string, string> = {
    // The TOML version: host, port, password ("" for none), executable (a path or a name in
    // PATH), args, user ("" for the current one), stream_name; "#" comments after values.
    "with-password.toml": `# A service with a password
[redis]
host = "10.1.2.3"
port = 6380
password = "not-a-real-one"

[app]
executable = "${tool}"
args = ["--mode", "fast"]
user = "nobody" # needs root
stream_name = "tool_main"
`,
    "empty-strings.toml": `[redis]
host = "localhost"
port = 6379
password = ""

[app]
executable = "tool"
args = ["-c", "/etc/tool.ini"]
user = ""  # the current user
stream_name = "tool_ini"`,
    "no-args.toml": `[redis]
host = "localhost"
port = 6379
password = ""
[app]
executable = "sh"
args = []
user = ""
stream_name = "just-sh"`,
    // The JSON version: secrets_dir instead of a password, a debug section, "_" comments.
    "service.json": `{
  "redis": {"host": "localhost", "port": 6379, "secrets_dir": "${secrets}"},
  "app": {
    "executable": "${tool}",
    "args": ["--verbose"],
    "user": "nobody",
    "stream_name": "tool"
  },
  "_comment_debug": "debug is optional",
  "debug": {"enabled": false, "port": 2345, "host": "127.0.0.1"},
  "_comment_usage": "set enabled to true to start under gdbserver"
}`,
    "debug.json": `{
  "_description": "Debug the tool",
  "redis": {"host": "redis", "port": 6379, "secrets_dir": "vault/redis/logger"},
  "app": {"executable": "/bin/sh", "args": ["-c", "sleep 1"], "stream_name": "sh-debug"},
  "debug": {"enabled": true, "port": 2345, "host": "0.0.0.0"},
  "_instructions": [
    "Connect with:",
    "  gdb /bin/sh",
    "  (gdb) target remote localhost:2345",
    ""
  ]
}`,
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir.path}/${name}`, text);
    const config = await loadConfig(`${dir.path}/${name}`, { env, uid: 1000 });
    assert.ok(config.redis, name);
    if (name.endsWith(".json")) {
      assert.equal(config.redis.username, "logger", name);
      assert.equal(config.redis.password, "hunter2", name);
    }
  }
  const empty = await loadConfig(`${dir.path}/empty-strings.toml`, { env, uid: 1000 });
  assert.equal(empty.app.resolvedExecutable, tool);
  assert.equal(empty.app.user, undefined);
  assert.equal(empty.redis?.password, undefined);
  assert.equal(empty.app.streamName, "tool_ini");
  const debug = await loadConfig(`${dir.path}/debug.json`, { env, uid: 1000 });
  assert.deepEqual(debug.debug, { enabled: true, port: 2345, host: "0.0.0.0" });
  assert.equal(debug.app.user, undefined);
  const service = await loadConfig(`${dir.path}/service.json`, { env, uid: 1000 });
  assert.equal(service.debug, undefined);
  assert.equal(service.app.user, "nobody");
});
