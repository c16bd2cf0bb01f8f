import assert from "node:assert/strict";
import { errorFrom, fakeEnv, OFFLINE, tempDir, writeScript } from "./_test_helpers.ts";
import { ConfigError } from "../errors.ts";
import { loadConfig, parseConfig } from "./load_config.ts";

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
