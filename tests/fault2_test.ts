/**
 * More faults with real parts: durations beyond setTimeout's 24.8 days, `check` refusing
 * what `run` would, a marker cut by the line split, a huge control entry, a spool owner
 * file naming a process that is no wrapp.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import {
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  waitFor,
  writeConfig,
  writeScript,
} from "./_helpers.ts";
import { startRedis } from "./_redis.ts";
import { processState } from "../lib/pipeline/sources/spawn_stopped.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";

/** Write `svc.toml` in `dir` from TOML `text`; returns its path. */
async function configFile(dir: string, text: string, name = "svc.toml"): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

/** The status messages wrapp wrote to Redis in our layout. */
async function statusMessages(client: Redis): Promise<string[]> {
  const entries = await client.xrange("logs:app:svc:status", "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("message") + 1]);
}

/** SIGKILL a wrapp a failed test left running, and wait for it. */
async function killLeft(wrapp: Deno.ChildProcess): Promise<void> {
  try {
    wrapp.kill("SIGKILL");
  } catch {
    // exited
  }
  await wrapp.output().catch(() => {});
}

/** Whether the process `pid` is alive (not gone, not a zombie). */
async function alive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== "Z";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test('stop_grace = "600h": a service that takes 1.5 s to stop is let finish, not SIGKILLed at once', async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `trap 'sleep 1.5; echo clean exit; exit 0' TERM
touch ${dir.path}/ready
while :; do sleep 0.1; done`,
  );
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: '[output]\necho = false\n[restart]\npolicy = "never"',
  });
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace("[app]\n", '[app]\nstop_grace = "600h"\n'),
  );
  const wrapp = spawnWrapp(["run", config]);
  try {
    await waitFor(() => Deno.stat(`${dir.path}/ready`).then(() => true, () => false), 15_000);
    wrapp.kill("SIGTERM");
    const output = await wrapp.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const text = JSON.stringify(await readLatestTrace(`${dir.path}/traces`));
    assert.ok(text.includes("clean exit"), "the service's last line is missing");
    assert.doesNotMatch(text, /sent SIGKILL/);
  } finally {
    await killLeft(wrapp);
  }
});

Deno.test('delay = max_delay = "600h": wrapp waits to restart instead of giving up in seconds; SIGTERM ends the wait', async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `echo started >> ${dir.path}/starts\nexit 1`,
  );
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: '[output]\necho = false\n[restart]\npolicy = "always"\ndelay = "600h"\n' +
      'max_delay = "600h"\nmax_restarts = 3',
  });
  const wrapp = spawnWrapp(["run", config]);
  try {
    await waitFor(() => Deno.stat(`${dir.path}/starts`).then(() => true, () => false), 15_000);
    // Before the fix, the 3 restarts and the give-up took about 3.5 s.
    await sleep(5000);
    assert.ok(await alive(wrapp.pid), "wrapp gave up waiting");
    assert.equal(await Deno.readTextFile(`${dir.path}/starts`), "started\n");
    const since = performance.now();
    wrapp.kill("SIGTERM");
    const output = await wrapp.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(performance.now() - since < 10_000, "SIGTERM did not end the wait");
    assert.equal(output.code, 1, stderr); // the last run's code
    assert.doesNotMatch(stderr, /giving up/);
    const text = JSON.stringify(await readLatestTrace(`${dir.path}/traces`));
    assert.match(text, /restarting svc in 2160000000 ms \(attempt 1\)/);
  } finally {
    await killLeft(wrapp);
  }
});

Deno.test('health_interval = "1000h": wrapp does not PING Redis every millisecond', async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", "echo hello\nsleep 3");
  const config = await configFile(
    dir.path,
    `[app]\nexecutable = "${script}"\nstream_name = "svc"\n[output]\necho = false\n` +
      `[redis]\nport = ${redis.port}\nspool_dir = "${dir.path}/spool"\nlayout = "wrapp"\n` +
      'health_interval = "1000h"\n',
  );
  const admin = await redis.client(0);
  await admin.call("CONFIG", "RESETSTAT");
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  const stats = String(await admin.call("INFO", "commandstats"));
  const pings = Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  // Before the fix: thousands in 3 s. Now: the start's health check, nothing periodic.
  assert.ok(pings < 10, `${pings} PINGs in 3 s`);
});

Deno.test({
  name: "wrapp trace --duration 600h traces until the command ends, not for 1 ms",
  ignore: !isRoot && !CI,
  async fn() {
    assert.ok(isRoot, "this test needs root (bpftrace): run it with sudo");
    await using dir = await tempDir();
    const script = await writeScript(
      dir.path,
      "work.sh",
      "sleep 1\nfor i in $(seq 200); do cat /dev/null; done",
    );
    const result = await runWrapp(["trace", "--duration", "600h", "--summary", "--", script]);
    assert.equal(result.code, 0, result.stderr);
    // The 200 cats started after the first second were traced: the duration did not end it.
    const execs = /\s(\d+)\s+(?:\d+\s+)?execve(?:\s|$)/m.exec(result.stdout);
    assert.ok(execs && Number(execs[1]) >= 200, `${result.stdout}\n${result.stderr}`);
  },
});

Deno.test("check refuses, like run, a missing user or group, a NUL in env, an unwritable local dir, a stream name too long for a folder", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ro`);
  await Deno.chmod(`${dir.path}/ro`, 0o555);
  const immutable = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, `${dir.path}/ro`] }).output();
  if (isRoot) assert.ok((await immutable("+i")).success, "chattr +i failed");
  try {
    const app = '[app]\nexecutable = "/bin/true"\n';
    const local = `[local]\ndir = "${dir.path}/traces"\n`;
    const cases: [string, string, RegExp][] = [
      [
        "user.toml",
        `${app}user = "no-such-user-wrapp"\n${local}`,
        /at line 3, column 1: user "no-such-user-wrapp" in \[app\] does not exist on this machine$/,
      ],
      [
        "group.toml",
        `${app}group = "no-such-group-wrapp"\n${local}`,
        /at line 3, column 1: group "no-such-group-wrapp" in \[app\] does not exist on this machine$/,
      ],
      [
        "nul.toml",
        `${app}env = { A = "x\\u0000y" }\n${local}`,
        /at line 3, column 9: "A" in \[app\.env\] must not contain a NUL character$/,
      ],
      [
        "ro.toml",
        `${app}[local]\ndir = "${dir.path}/ro/traces"\n`,
        /at line 4, column 1: the local trace folder ".*\/ro\/traces" is not writable \(it would be created in ".*\/ro"\): permission denied$/,
      ],
      [
        "long.toml",
        `${app}stream_name = "${"s".repeat(300)}"\n[local]\nenabled = true\n`,
        /at line 3, column 1: the local trace folder ".*" cannot be created: its folder name "s+\.\.\." \(the stream name\) is 300 bytes, more than the 255 a name may have; set a shorter "stream_name" in \[app\], or "dir" in \[local\]$/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const path = await configFile(dir.path, text, name);
      for (const command of ["check", "run"]) {
        const result = await runWrapp([command, path]);
        assert.equal(result.code, 2, `${command} ${name}: ${result.stderr}`);
        assert.match(result.stderr.trim(), message, `${command} ${name}`);
      }
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir.path)].filter((e) => e.isDirectory).map((e) => e.name),
      ["ro"],
      "check or run created a folder",
    );
    assert.deepEqual([...Deno.readDirSync(`${dir.path}/ro`)], []);
  } finally {
    if (isRoot) await immutable("-i");
  }
});

Deno.test("a {{marker}} cut in two by max_line_bytes is counted", async () => {
  await using dir = await tempDir();
  // 250 bytes, then the marker: the 256-byte split cuts "{{requ|ests}}".
  const line = `${"x".repeat(250)}{{requests}} {{requests}}`;
  const script = await writeScript(dir.path, "svc.sh", `echo '${line}'\necho '{{requests}}'`);
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: "[output]\necho = false\nmax_line_bytes = 256",
  });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  const counts = (await readLatestTrace(`${dir.path}/traces`))
    .filter((e) => e.ph === "C" && e.name === "requests")
    .map((e) => e.args?.value);
  assert.deepEqual(counts, [1, 2, 3]);
});

Deno.test("a 10 MB control entry is echoed into the status stream as its first 256 bytes and its size", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", `touch ${dir.path}/up\nsleep 30`);
  const config = await configFile(
    dir.path,
    `[app]\nexecutable = "${script}"\nstream_name = "svc"\n[output]\necho = false\n` +
      `[redis]\nport = ${redis.port}\nspool_dir = "${dir.path}/spool"\nlayout = "wrapp"\n`,
  );
  const wrapp = spawnWrapp(["run", config]);
  try {
    const admin = await redis.client(0);
    await waitFor(
      async () => String(await admin.call("CLIENT", "LIST")).includes("name=wrapp:svc:control"),
      15_000,
      "the control stream reader",
    );
    await waitFor(() => Deno.stat(`${dir.path}/up`).then(() => true, () => false), 15_000);
    const rss = async () =>
      Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${wrapp.pid}/status`))?.[1]);
    const before = await rss();
    const huge = "restart".repeat(1_500_000); // 10.5 MB
    const control = await redis.client(5);
    await control.xadd("wrapp:svc:control", "*", "cmd", huge);
    const logs = await redis.client(1);
    await waitFor(
      async () => (await statusMessages(logs)).some((m) => m.startsWith("control: rejected")),
      15_000,
      "the rejection",
    );
    // For the report: before the fix, wrapp grew by about 93 MiB here.
    console.log(`wrapp RSS ${before} kB before the 10 MB entry, ${await rss()} kB after`);
    await control.xadd("wrapp:svc:control", "*", "cmd", "stop");
    const output = await wrapp.output();
    assert.equal(output.code, 143, new TextDecoder().decode(output.stderr));
    const status = await statusMessages(await redis.client(1));
    const rejected = status.find((m) => m.startsWith("control: rejected"));
    assert.ok(rejected, status.map((m) => m.slice(0, 200)).join("\n"));
    assert.ok(rejected.length < 1024, `${rejected.length} characters: ${rejected.slice(0, 300)}…`);
    assert.equal(
      rejected.replace(/\(entry [\d-]+\)/, "(entry ID)"),
      `control: rejected "${
        huge.slice(0, 256)
      }… (${huge.length} bytes)" (entry ID): too long for a command: expected restart, stop or signal <NAME>`,
    );
    const entries = await (await redis.client(1)).xrange("logs:app:svc:status", "-", "+");
    const biggest = Math.max(...entries.map(([, fields]) => fields.join("").length));
    assert.ok(biggest < 4096, `a status entry of ${biggest} characters`);
  } finally {
    await killLeft(wrapp);
  }
});

Deno.test("an owner file naming pid 1 (copied from a container) does not keep wrapp from its spool", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/spool`, { recursive: true });
  const stat = await Deno.readTextFile("/proc/1/stat");
  const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  await Deno.writeTextFile(`${dir.path}/spool/owner`, `1 ${started}\n`);
  const config = await configFile(
    dir.path,
    `[app]\nexecutable = "/bin/echo"\nargs = ["hi"]\nstream_name = "svc"\n[output]\necho = false\n` +
      `[redis]\nport = ${redis.port}\nspool_dir = "${dir.path}/spool"\nlayout = "wrapp"\n`,
  );
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /is using it/);
  const logs = await (await redis.client(1)).xrange("logs:app:svc:info", "-", "+");
  assert.deepEqual(logs.map(([, f]) => f[f.indexOf("message") + 1]), ["hi"]);
});
