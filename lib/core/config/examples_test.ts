import assert from "node:assert/strict";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_SCHEMA, loadConfig } from "./load_config.ts";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));

async function exampleConfigs(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(EXAMPLES)) {
    if (entry.isFile && entry.name.endsWith(".toml")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("every examples/*.toml is a valid config", async () => {
  const names = await exampleConfigs();
  assert.deepEqual(names, [
    "config.example.toml",
    "hello.toml",
    "python-script.toml",
    "simple-command.toml",
    "system-service.toml",
  ]);
  for (const name of names) {
    // The system service's /opt/robot does not exist on this machine.
    const checkExecutable = name !== "system-service.toml";
    const config = await loadConfig(`${EXAMPLES}${name}`, { checkExecutable });
    assert.equal(basename(config.file), name);
  }
});

Deno.test("examples/hello.toml runs hello.sh beside it from any working directory", async () => {
  const config = await loadConfig(`${EXAMPLES}hello.toml`, { cwd: "/", checkExecutable: true });
  assert.equal(config.app.resolvedExecutable, `${EXAMPLES}hello.sh`);
  assert.equal(config.app.cwd, EXAMPLES.replace(/\/$/, ""));
  assert.equal(config.app.streamName, "hello");
});

Deno.test("examples/hello.sh prints lines, markers, a multi-line block and a stderr line, then exits 0", async () => {
  const { code, stdout, stderr } = await new Deno.Command(`${EXAMPLES}hello.sh`, { cwd: "/" })
    .output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0);
  assert.match(out, /\{\{processed\}\}/);
  assert.match(out, /\{\{queue_depth:\d+\}\}/);
  assert.match(out, /^>>\|\n(.+\n)+\|<<$/m);
  assert.ok(out.split("\n").length > 5, out);
  assert.equal(new TextDecoder().decode(stderr), "this line goes to stderr\n");
});

Deno.test("examples/system-service.toml runs as a service user with Redis and a local trace", async () => {
  const config = await loadConfig(`${EXAMPLES}system-service.toml`, { checkExecutable: false });
  assert.equal(config.app.user, "robot");
  assert.equal(config.app.cwd, "/opt/robot");
  assert.equal(config.app.inheritEnv, false);
  assert.ok(config.redis);
  assert.equal(config.local.enabled, true);
});

Deno.test("examples/config.example.toml shows every section and key of the schema", async () => {
  const text = await Deno.readTextFile(`${EXAMPLES}config.example.toml`);
  for (const [section, spec] of Object.entries(CONFIG_SCHEMA)) {
    assert.match(text, new RegExp(`^(# )?\\[${section}\\]$`, "m"), `[${section}] is missing`);
    for (const key of Object.keys(spec.fields)) {
      const shown = new RegExp(`^(# )?${key} = |^\\[${section}\\.${key}\\]$`, "m");
      assert.match(text, shown, `${key} in [${section}] is missing`);
    }
  }
});

Deno.test("examples/wrapp@.service lets wrapp stop the service within systemd's timeout", async () => {
  const text = await Deno.readTextFile(`${EXAMPLES}wrapp@.service`);
  const setting = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
  assert.equal(setting("ExecStart"), "/usr/local/bin/wrapp run /etc/wrapp/%i.toml");
  assert.ok(["mixed", "process"].includes(setting("KillMode") ?? ""), setting("KillMode"));
  assert.equal(setting("Restart"), "on-failure");
  const timeout = Number(setting("TimeoutStopSec")?.replace(/s$/, ""));
  const defaultGraceSeconds = (CONFIG_SCHEMA.app.fields.stop_grace.default as number) / 1000;
  assert.ok(timeout > defaultGraceSeconds, `TimeoutStopSec ${timeout} <= ${defaultGraceSeconds}`);
});

Deno.test("examples/python-script.py prints counters, values, a multi-line block and a stderr line", async () => {
  const config = await loadConfig(`${EXAMPLES}python-script.toml`, { cwd: "/" });
  const { code, stdout, stderr } = await new Deno.Command(config.app.resolvedExecutable, {
    args: config.app.args,
    cwd: config.app.cwd,
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0);
  assert.match(out, /\{\{processed\}\}/);
  assert.match(out, /\{\{temperature:42\.5\}\}/);
  assert.match(out, /^>>\|\n(.+\n)+\|<<$/m);
  assert.equal(new TextDecoder().decode(stderr), "warning: this goes to stderr\n");
});
