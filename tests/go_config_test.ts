/**
 * Configs written for the Go wrapp, through the real CLI: `wrapp check` of a JSON config
 * prints TOML that checks the same, and `wrapp run` with `secrets_dir` logs into a
 * redis-server that only accepts that ACL user and password.
 */

import assert from "node:assert/strict";
import { runWrapp, tempDir, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

/** `<parent>/<user>/password` holding `password` and a line break; returns the folder. */
async function secretsFolder(parent: string, user: string, password: string): Promise<string> {
  const dir = `${parent}/${user}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/password`, `${password}\n`);
  return dir;
}

Deno.test("wrapp check prints a JSON config as TOML that checks the same, without the password", async () => {
  await using dir = await tempDir();
  await secretsFolder(`${dir.path}/secrets`, "logger", "pw-in-file");
  await Deno.writeTextFile(
    `${dir.path}/svc.json`,
    `{
  "_description": "A Go wrapp config",
  "redis": {"host": "localhost", "port": 6379, "secrets_dir": "secrets/logger"},
  "app": {"executable": "/bin/sh", "args": ["-c", "echo hi"], "user": "", "stream_name": "sh"},
  "debug": {"enabled": false, "port": 2345, "host": "127.0.0.1"},
  "_usage": ["wrapp svc.json"]
}
`,
  );
  const json = await runWrapp(["check", "svc.json"], { cwd: dir.path });
  assert.equal(json.code, 0, json.stderr);
  assert.ok(!json.stdout.includes("pw-in-file"), json.stdout);
  assert.match(json.stdout, /^# svc\.json: valid\n\[app\]\nexecutable = "\/bin\/sh"\n/);
  assert.match(json.stdout, new RegExp(`^secrets_dir = "${dir.path}/secrets/logger"$`, "m"));

  await Deno.mkdir(`${dir.path}/toml`);
  await Deno.writeTextFile(`${dir.path}/toml/svc.toml`, json.stdout);
  const toml = await runWrapp(["check", "toml/svc.toml"], { cwd: dir.path });
  assert.equal(toml.code, 0, toml.stderr);
  const body = (text: string) => text.slice(text.indexOf("\n") + 1);
  assert.equal(body(toml.stdout), body(json.stdout));
});

Deno.test("wrapp check and run name the line and column of a JSON syntax error", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    `${dir.path}/bad.json`,
    '{\n  "app": {\n    "executable": "/bin/true"\n    "args": []\n  }\n}\n',
  );
  for (const command of ["check", "run"]) {
    const result = await runWrapp([command, "bad.json"], { cwd: dir.path });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      'wrapp: Invalid config "bad.json" at line 4, column 5: invalid JSON: expected "," or "}" after the value of "executable", got "\\""',
    );
  }
});

Deno.test("wrapp run logs into Redis as the user and with the password of secrets_dir", async () => {
  // The default user has another password: only the secrets' user and password get in.
  await using redis = await startRedis({
    password: "admin-only",
    args: ["--user", "logger", "on", ">s3cret pw", "~*", "&*", "+@all"],
  });
  await using dir = await tempDir();
  await secretsFolder(`${dir.path}/vault`, "logger", "s3cret pw");
  const script = await writeScript(
    dir.path,
    "svc.sh",
    'echo "first line from the service"; echo "second line from the service"',
  );
  await Deno.writeTextFile(
    `${dir.path}/svc.json`,
    JSON.stringify(
      {
        _comment: "The Go wrapp's JSON shape, plus spool_dir to keep the test in its folder",
        redis: {
          host: "127.0.0.1",
          port: redis.port,
          secrets_dir: "vault/logger",
          spool_dir: `${dir.path}/spool`,
        },
        app: { executable: script, args: [], user: "", stream_name: "secret-svc" },
      },
      null,
      2,
    ),
  );
  const result = await runWrapp(["run", "svc.json"], { cwd: dir.path });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /NOAUTH|WRONGPASS|password/i);

  const logs = await redis.client(1);
  const entries = await logs.xrange("logs:app:secret-svc:info", "-", "+");
  // Whatever the field is called, some field of some entry holds each line.
  const values = entries.flatMap(([, fields]) => fields.filter((_, i) => i % 2 === 1));
  for (const line of ["first line from the service", "second line from the service"]) {
    assert.ok(values.includes(line), `${line} not in ${JSON.stringify(entries)}`);
  }
});
