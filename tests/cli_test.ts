/**
 * The command line as a user meets it: help, config errors with their exact messages and
 * exit code 2, `wrapp check`, the demo example, and running as another user.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  readLatestTrace,
  runWrapp,
  tempDir,
  writeConfig,
  writeScript,
} from "./_helpers.ts";

Deno.test("wrapp --help teaches the commands and wrapp --version prints the version", async () => {
  const help = await runWrapp(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /wrapp run <svc\.toml>/);
  assert.match(help.stdout, /wrapp check <svc\.toml>/);
  assert.match(help.stdout, /Exit codes:/);
  const runHelp = await runWrapp(["run", "--help"]);
  assert.match(runHelp.stdout, /stop_grace/);
  const version = await runWrapp(["--version"]);
  assert.equal(version.stdout.trim(), "wrapp 0.1.0");
});

Deno.test("wrapp reports an unknown command or option with a suggestion and exit code 2", async () => {
  const command = await runWrapp(["rnu", "x.toml"]);
  assert.equal(command.code, 2);
  assert.equal(
    command.stderr.trim(),
    'wrapp: Unknown command "rnu" (did you mean "run"?): see "wrapp --help"',
  );
  const option = await runWrapp(["run", "x.toml", "--debgu"]);
  assert.equal(option.code, 2);
  assert.equal(
    option.stderr.trim(),
    'wrapp: Unknown option "--debgu" for "wrapp run" (did you mean "--debug"?): see "wrapp run --help"',
  );
  const missing = await runWrapp(["check"]);
  assert.equal(missing.stderr.trim(), 'wrapp: Missing config file: usage "wrapp check <svc.toml>"');
});

Deno.test("wrapp check and run reject bad configs with file, line, column and exit code 2", async () => {
  await using dir = await tempDir();
  const cases: Array<[string, string]> = [
    [
      '[app]\nexectuable = "/bin/true"\n',
      'wrapp: Invalid config "bad.toml" at line 2, column 1: unknown key "exectuable" in [app] (did you mean "executable"?)',
    ],
    [
      '[app]\nexecutable = "/bin/true"\n[ouptut]\necho = false\n',
      'wrapp: Invalid config "bad.toml" at line 3, column 1: unknown section [ouptut] (did you mean [output]?)',
    ],
    [
      '[app]\nexecutable = "/bin/true"\n[output]\nmax_line_bytes = "big"\n',
      'wrapp: Invalid config "bad.toml" at line 4, column 1: "max_line_bytes" in [output] must be an integer between 256 and 16777216, got "big"',
    ],
    [
      '[app]\nexecutable = "/nonexistent/prog"\n',
      'wrapp: Invalid config "bad.toml" at line 2, column 1: executable "/nonexistent/prog" does not exist',
    ],
    [
      '[app]\nexecutable = "./data.txt"\n',
      'wrapp: Invalid config "bad.toml" at line 2, column 1: executable "./data.txt" is not executable',
    ],
    ["[output]\necho = true\n", 'wrapp: Invalid config "bad.toml": missing required section [app]'],
  ];
  await Deno.writeTextFile(`${dir.path}/data.txt`, "not a program\n");
  for (const [text, expected] of cases) {
    await Deno.writeTextFile(`${dir.path}/bad.toml`, text);
    for (const command of ["check", "run"]) {
      const result = await runWrapp([command, "bad.toml"], { cwd: dir.path });
      assert.equal(result.code, 2, `${command}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), expected);
    }
  }
  await Deno.writeTextFile(`${dir.path}/bad.toml`, '[app]\nexecutable = "/bin/true\n');
  const syntax = await runWrapp(["check", "bad.toml"], { cwd: dir.path });
  assert.equal(syntax.code, 2);
  assert.match(syntax.stderr, /^wrapp: Invalid config "bad\.toml" at line 2, column \d+: \S/);
  const absent = await runWrapp(["check", "absent.toml"], { cwd: dir.path });
  assert.equal(absent.code, 2);
  assert.equal(
    absent.stderr.trim(),
    'wrapp: Cannot read config "absent.toml": no such file or directory',
  );
});

Deno.test("wrapp run reports a missing executable before starting anything", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, { executable: `${dir.path}/gone.sh` });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 2);
  await assert.rejects(Deno.stat(`${dir.path}/traces`), Deno.errors.NotFound);
});

Deno.test("wrapp check prints the effective config with defaults filled in", async () => {
  const result = await runWrapp(["check", "examples/hello.toml"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^# examples\/hello\.toml: valid$/m);
  assert.match(result.stdout, /^stream_name = "hello"$/m);
  assert.match(result.stdout, /^max_line_bytes = 65536$/m);
  assert.match(result.stdout, /^multiline_start = ">>\|"$/m);
  assert.match(result.stdout, /^keep_runs = 20$/m);
});

Deno.test("the demo example runs as-is and leaves a trace Perfetto can open", async () => {
  await using state = await tempDir();
  const result = await runWrapp(["run", "examples/hello.toml"], {
    env: { XDG_STATE_HOME: state.path },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^hello from hello\.sh/);
  assert.match(result.stderr, /this line goes to stderr/);
  // Root's traces go to /var/lib/wrapp, everyone else's under XDG_STATE_HOME.
  const traceDir = Deno.uid() === 0 ? "/var/lib/wrapp/hello" : `${state.path}/wrapp/hello`;
  const written = new RegExp(`trace written to ${traceDir}/\\d{8}-\\d{6}-[0-9a-f]{6}/trace\\.json`);
  assert.match(result.stderr, written);
  const events = await readLatestTrace(traceDir);
  const lines = logTexts(events);
  assert.equal(lines.length, 6);
  assert.equal(lines[4], "status report\n  items: 3\n  errors: 0");
  assert.deepEqual(logTexts(events, "stderr"), ["this line goes to stderr"]);
  const processed = events.filter((e) => e.ph === "C" && e.name === "processed");
  assert.deepEqual(processed.map((e) => e.args?.value), [1, 2, 3]);
});

const isRoot = Deno.uid() === 0;

Deno.test({
  name:
    "wrapp run as root runs the service as [app] user with its supplementary groups and no capabilities",
  ignore: !isRoot && Deno.env.get("CI") !== "true",
  async fn() {
    assert.equal(Deno.uid(), 0, "this test needs root (CI runs as root)");
    await using dir = await tempDir();
    const user = `wrapptest${Math.floor(Math.random() * 1e6)}`;
    const groups = [`${user}a`, `${user}b`];
    const sh = (cmd: string) => new Deno.Command("bash", { args: ["-c", cmd] }).output();
    for (const group of groups) assert.ok((await sh(`groupadd ${group}`)).success);
    assert.ok(
      (await sh(`useradd -M -d /nonexistent -s /bin/sh -G ${groups.join(",")} ${user}`)).success,
    );
    try {
      await Deno.chmod(dir.path, 0o755);
      const script = await writeScript(
        dir.path,
        "whoami.sh",
        `echo "user=$(id -un) groups=$(id -Gn) home=$HOME logname=$LOGNAME shell=$SHELL"
grep -E '^(CapEff|CapPrm|CapBnd|CapInh):' /proc/$$/status`,
      );
      const config = await writeConfig(dir.path, { executable: script, name: "asuser" });
      await Deno.writeTextFile(
        config,
        (await Deno.readTextFile(config)).replace("[app]\n", `[app]\nuser = "${user}"\n`),
      );
      const result = await runWrapp(["run", config]);
      assert.equal(result.code, 0, result.stderr);
      const lines = logTexts(await readLatestTrace(`${dir.path}/traces`));
      const [who, ...caps] = lines;
      assert.match(
        who,
        new RegExp(
          `^user=${user} groups=${user}(?: \\S+)* home=/nonexistent logname=${user} shell=/bin/sh$`,
        ),
      );
      for (const group of groups) {
        assert.ok(who.split(" ").includes(group) || who.includes(` ${group}`), who);
      }
      assert.deepEqual(caps.sort(), [
        "CapBnd:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapInh:\t0000000000000000",
        "CapPrm:\t0000000000000000",
      ]);
    } finally {
      await sh(
        `userdel ${user}; groupdel ${groups[0]}; groupdel ${
          groups[1]
        }; groupdel ${user} 2>/dev/null`,
      );
    }
  },
});

Deno.test("wrapp run refuses [app] user without root, before starting", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/svc.toml`;
  await Deno.writeTextFile(config, '[app]\nexecutable = "true"\nuser = "root"\n');
  const result = isRoot ? await runWrappAsNobody(dir.path, ["run", config]) : await runWrapp([
    "run",
    config,
  ]);
  assert.equal(result.code, 77, result.stderr);
  assert.match(result.stderr, /Cannot run the service as user "root": switching users needs root/);
});

/**
 * Runs wrapp as "nobody" from root: nobody may read neither this clone nor root's Deno
 * cache, so both are copied where it can (offline: `--cached-only`).
 */
async function runWrappAsNobody(dir: string, args: string[]) {
  const source = `${dir}/src`;
  const denoDir = `${dir}/deno`;
  const home = `${dir}/home`;
  await Deno.mkdir(home, { mode: 0o777 });
  await Deno.chmod(home, 0o777);
  const files = await command("git", ["ls-files", "-z"]);
  await command("cp", ["--parents", "-t", source, ...files.split("\0").filter((f) => f)], {
    mkdir: source,
  });
  const info = JSON.parse(await command(Deno.execPath(), ["info", "--json"]));
  await command("cp", ["-r", `${info.npmCache}`, `${denoDir}/npm`], { mkdir: denoDir });
  await command("chmod", ["-R", "a+rX", dir]);
  const output = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      Deno.execPath(),
      "run",
      "-A",
      "--cached-only",
      "main.ts",
      ...args,
    ],
    cwd: source,
    env: { DENO_DIR: denoDir, HOME: home, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs a set-up command and returns its stdout; throws with its stderr if it fails. */
async function command(name: string, args: string[], options: { mkdir?: string } = {}) {
  if (options.mkdir) await Deno.mkdir(options.mkdir, { recursive: true });
  const output = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${name} ${args.slice(0, 3).join(" ")} failed: ${decoder.decode(output.stderr)}`,
    );
  }
  return decoder.decode(output.stdout);
}
