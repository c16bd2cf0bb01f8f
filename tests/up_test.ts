/**
 * `wrapp up DIR`, `wrapp run a.toml b.toml` and `wrapp check DIR`: several services in one
 * wrapp, against a real redis-server — restarts, crash capture, another user, the group's
 * SIGTERM and exit code, prefixed echo, and configs refused before anything starts.
 */

import assert from "node:assert/strict";
import { logTexts, readLatestTrace, runWrapp, spawnWrapp, tempDir, waitFor } from "./_helpers.ts";
import { startRedis, streamMessages as messages } from "./_redis.ts";

const isRoot = Deno.uid() === 0;

/** Write `<dir>/<name>.toml` for a service running `script`, with its own trace folder and spool. */
async function serviceConfig(
  dir: string,
  name: string,
  script: string,
  options: { redisPort?: number; extra?: string[] } = {},
): Promise<string> {
  const path = `${dir}/conf/${name}.toml`;
  await Deno.mkdir(`${dir}/conf`, { recursive: true });
  const lines = [
    "[app]",
    `executable = ${JSON.stringify(script)}`,
    `stream_name = ${JSON.stringify(name)}`,
    ...(options.extra ?? []),
    "[local]",
    "enabled = true",
    `dir = ${JSON.stringify(`${dir}/traces-${name}`)}`,
  ];
  if (options.redisPort !== undefined) {
    lines.push(
      "[redis]",
      `port = ${options.redisPort}`,
      'layout = "wrapp"',
      `spool_dir = ${JSON.stringify(`${dir}/spool-${name}`)}`,
    );
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** Write an executable script with `body` (sh), readable by every user. */
async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}

/** Collect a stream's text as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (text += chunk) }),
  );
  return { text: () => text, done };
}

Deno.test({
  name:
    "wrapp up DIR: a crashing service restarts, one ends cleanly, one runs as nobody; SIGTERM stops all within their grace",
  ignore: !isRoot && Deno.env.get("CI") !== "true",
  async fn() {
    assert.equal(Deno.uid(), 0, 'this test runs a service as "nobody" and needs root');
    await using redis = await startRedis();
    await using dir = await tempDir();
    await Deno.chmod(dir.path, 0o755); // the nobody service runs its script from here
    const crasher = await script(
      dir.path,
      "crasher.sh",
      [
        `n=$(cat "${dir.path}/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${dir.path}/count"`,
        // The trap comes before the line the test waits for: a SIGTERM right after it is caught.
        `trap 'echo "crasher stopping"; exit 0' TERM`,
        'echo "crasher run $n"',
        'if [ "$n" = 1 ]; then kill -SEGV $$; fi',
        "sleep 60 & wait",
      ].join("\n"),
    );
    const clean = await script(
      dir.path,
      "clean.sh",
      'echo "clean says hello"; echo "clean warns" >&2; exit 0',
    );
    // Ignores SIGTERM (sleep inherits that): wrapp must SIGKILL it after its 1 s grace.
    const asNobody = await script(
      dir.path,
      "nobody.sh",
      `trap '' TERM; echo "runs as $(id -un)"; while true; do sleep 0.1; done`,
    );
    const restart = ["[restart]", 'policy = "on-failure"', 'delay = "100ms"'];
    const crash = ["[crash]", 'core_timeout = "1s"'];
    await serviceConfig(dir.path, "crasher", crasher, {
      redisPort: redis.port,
      extra: [...restart, ...crash],
    });
    await serviceConfig(dir.path, "clean", clean, { redisPort: redis.port, extra: restart });
    await serviceConfig(dir.path, "guest", asNobody, {
      redisPort: redis.port,
      extra: ['user = "nobody"', 'stop_grace = "1s"', ...restart],
    });

    const wrapp = spawnWrapp(["up", `${dir.path}/conf/`]);
    const stdout = collect(wrapp.stdout);
    const stderr = collect(wrapp.stderr);
    const seen = (text: string) => () => stdout.text().includes(text);
    const timeoutMs = 90_000; // three starts held for the crash watcher, a crash report, a busy machine
    try {
      await waitFor(seen("crasher | crasher run 2\n"), timeoutMs, "the crasher's second run");
      await waitFor(seen("guest | runs as nobody\n"), timeoutMs, "the nobody service");
      // The clean one ended for good (exit 0, policy on-failure) and the others go on.
      await waitFor(
        () => Deno.stat(`${dir.path}/traces-clean/latest/trace.json`).then(() => true, () => false),
        timeoutMs,
        "the clean service's trace",
      );
    } catch (error) {
      wrapp.kill("SIGKILL");
      await wrapp.status;
      throw new Error(`${error}\nstdout:\n${stdout.text()}\nstderr:\n${stderr.text()}`);
    }
    // The sinks share one connection per database; each control stream has its own (the
    // clean service's went with it).
    const admin = await redis.client(0);
    const names = String(await admin.call("CLIENT", "LIST")).trim().split("\n")
      .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? "").filter((name) => name !== "").sort();
    assert.deepEqual(names, [
      "wrapp",
      "wrapp",
      "wrapp",
      "wrapp:crasher:control",
      "wrapp:guest:control",
    ]);

    const stoppedAt = performance.now();
    wrapp.kill("SIGTERM");
    const status = await wrapp.status;
    const stopMs = performance.now() - stoppedAt;
    await Promise.all([stdout.done, stderr.done]);
    const context = `stdout:\n${stdout.text()}\nstderr:\n${stderr.text()}`;

    // clean 0, crasher 0 (its trap), guest SIGKILLed after its grace: the first non-zero code.
    assert.equal(status.code, 137, context);
    assert.ok(
      stopMs >= 1000,
      `guest held its SIGTERM for its 1 s grace, yet wrapp ended in ${stopMs} ms`,
    );
    assert.ok(stopMs < 9000, `crasher's grace (10 s) was not needed, yet wrapp took ${stopMs} ms`);

    // Echo: each line with its service's name, stderr lines on stderr.
    for (
      const line of [
        "crasher | crasher run 1",
        "clean | clean says hello",
        "crasher | crasher stopping",
      ]
    ) {
      assert.ok(stdout.text().includes(`${line}\n`), `"${line}" missing: ${context}`);
    }
    assert.ok(stderr.text().includes("clean | clean warns\n"), context);
    assert.match(stderr.text(), /^crasher \| wrapp: crasher crashed|^crasher \| wrapp: .*SIGSEGV/m);

    const logs = await redis.client(1);
    assert.deepEqual(await messages(logs, "logs:app:crasher:info"), [
      "crasher run 1",
      "crasher run 2",
      "crasher stopping",
    ]);
    assert.equal(await logs.xlen("logs:app:crasher:crash"), 1, "one crash report");
    const crasherStatus = await messages(logs, "logs:app:crasher:status");
    assert.ok(
      crasherStatus.some((m) => /ended with signal SIGSEGV/.test(m)),
      crasherStatus.join("\n"),
    );
    assert.ok(
      crasherStatus.some((m) => /^restarting crasher in \d+ ms/.test(m)),
      crasherStatus.join("\n"),
    );
    assert.ok(
      crasherStatus.some((m) => /^forwarded SIGTERM to crasher/.test(m)),
      crasherStatus.join("\n"),
    );

    assert.deepEqual(await messages(logs, "logs:app:clean:info"), ["clean says hello"]);
    assert.deepEqual(await messages(logs, "logs:app:clean:error"), ["clean warns"]);
    const cleanStatus = await messages(logs, "logs:app:clean:status");
    assert.ok(
      cleanStatus.some((m) => /^clean ended with exit code 0/.test(m)),
      cleanStatus.join("\n"),
    );
    assert.ok(!cleanStatus.some((m) => /^restarting/.test(m)), cleanStatus.join("\n"));

    assert.deepEqual(await messages(logs, "logs:app:guest:info"), ["runs as nobody"]);
    const guestStatus = await messages(logs, "logs:app:guest:status");
    assert.ok(
      guestStatus.some((m) => m === "guest did not stop within 1000 ms; sent SIGKILL"),
      guestStatus.join("\n"),
    );
    assert.ok(
      guestStatus.some((m) => /^guest ended with signal SIGKILL/.test(m)),
      guestStatus.join("\n"),
    );
    const [[, start]] = await logs.xrange("logs:app:guest:status", "-", "+", "COUNT", 1);
    assert.ok(start.join(" ").includes("nobody"), `the start event names the user: ${start}`);

    // Local traces: each service its own, with its own lines.
    assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces-clean`)), [
      "clean says hello",
    ]);
    assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces-guest`)), [
      "runs as nobody",
    ]);
    // Restarts share the run: the crasher's trace has all three lines.
    assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces-crasher`)), [
      "crasher run 1",
      "crasher run 2",
      "crasher stopping",
    ]);
  },
});

Deno.test("wrapp up DIR with a bad config: exit 2 naming the file, nothing started", async () => {
  await using dir = await tempDir();
  const marker = `${dir.path}/started`;
  const good = await script(dir.path, "good.sh", `touch "${marker}"`);
  await serviceConfig(dir.path, "good", good);
  await Deno.writeTextFile(
    `${dir.path}/conf/bad.toml`,
    `[app]\nexecutable = ${JSON.stringify(good)}\nstream_name = "bad"\nrestart = "yes"\n`,
  );
  const result = await runWrapp(["up", `${dir.path}/conf`]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^wrapp: 1 of 2 configs are invalid, nothing started:\n {2}Invalid config ".*\/conf\/bad\.toml" at line 4, column 1: unknown key "restart" in \[app\]/,
  );
  assert.ok(!result.stderr.includes("good.toml"), result.stderr);
  assert.equal(result.stdout, "");
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "the good service must not start");

  // Two services with the same stream_name: refused, both files named.
  await Deno.remove(`${dir.path}/conf/bad.toml`);
  const twin = (await Deno.readTextFile(`${dir.path}/conf/good.toml`)).replace(
    `traces-good`,
    `traces-twin`,
  );
  await Deno.writeTextFile(`${dir.path}/conf/twin.toml`, twin);
  const dup = await runWrapp(["up", `${dir.path}/conf`]);
  assert.equal(dup.code, 2, dup.stderr);
  assert.match(
    dup.stderr,
    /Cannot run these services in one wrapp: ".*\/conf\/good\.toml" and ".*\/conf\/twin\.toml" have the same stream_name "good"/,
  );
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "the good service must not start");

  // An empty folder is an error too.
  await Deno.mkdir(`${dir.path}/empty`);
  const empty = await runWrapp(["up", `${dir.path}/empty`]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^wrapp: No \*\.toml or \*\.json config in ".*\/empty"\n$/);
});

Deno.test("wrapp check DIR and wrapp check a.toml b.toml: every config checked, each bad file named", async () => {
  await using dir = await tempDir();
  const ok = await script(dir.path, "ok.sh", "exit 0");
  const first = await serviceConfig(dir.path, "first", ok);
  const second = await serviceConfig(dir.path, "second", ok);
  const valid = await runWrapp(["check", `${dir.path}/conf`]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.ok(valid.stdout.includes(`# ${first}: valid\n[app]`), valid.stdout);
  assert.ok(valid.stdout.includes(`# ${second}: valid\n[app]`), valid.stdout);
  const files = await runWrapp(["check", first, second]);
  assert.equal(files.code, 0, files.stderr);
  assert.equal(files.stdout, valid.stdout);

  await Deno.writeTextFile(`${dir.path}/conf/broken.toml`, "[app\n");
  await Deno.writeTextFile(
    `${dir.path}/conf/missing.json`,
    JSON.stringify({ app: { executable: `${dir.path}/nope` } }),
  );
  await Deno.writeTextFile(`${dir.path}/conf/notes.txt`, "not a config");
  const bad = await runWrapp(["check", `${dir.path}/conf/`]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.ok(bad.stdout.includes(`# ${first}: valid`), bad.stdout);
  assert.ok(bad.stdout.includes(`# ${second}: valid`), bad.stdout);
  const lines = bad.stderr.trimEnd().split("\n");
  assert.equal(lines[0], "wrapp: 2 of 4 configs are invalid:", bad.stderr);
  assert.match(lines[1], /^ {2}Invalid config ".*\/conf\/broken\.toml" at line 1/);
  assert.match(lines[2], /^ {2}Invalid config ".*\/conf\/missing\.json".*does not exist/);
  assert.equal(lines.length, 3, bad.stderr);
});

Deno.test("wrapp run a.toml b.toml: both supervised, lines prefixed, exit code of the first to fail", async () => {
  await using dir = await tempDir();
  const fails = await script(dir.path, "fails.sh", 'echo "failing"; sleep 0.2; exit 3');
  const later = await script(dir.path, "later.sh", 'echo "later"; sleep 1; exit 5');
  const fine = await script(dir.path, "fine.sh", 'echo "fine"; exit 0');
  const configs = [
    await serviceConfig(dir.path, "fails", fails),
    await serviceConfig(dir.path, "later", later),
    await serviceConfig(dir.path, "fine", fine),
  ];
  const result = await runWrapp(["run", ...configs]);
  assert.equal(result.code, 3, result.stderr);
  assert.deepEqual(
    result.stdout.split("\n").filter((l) => l !== "").sort(),
    ["fails | failing", "fine | fine", "later | later"],
  );
  for (const name of ["fails", "later", "fine"]) {
    assert.match(result.stderr, new RegExp(`^${name} \\| wrapp: trace written to `, "m"));
  }
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces-later`)), ["later"]);

  // One file: "wrapp run" as ever, no prefix.
  const single = await runWrapp(["run", configs[2]]);
  assert.equal(single.code, 0, single.stderr);
  assert.equal(single.stdout, "fine\n");
  assert.match(single.stderr, /^wrapp: trace written to /m);
});

Deno.test("examples/wrapp-up.service runs wrapp up /etc/wrapp/ and lets it stop every service", async () => {
  const text = await Deno.readTextFile(new URL("../examples/wrapp-up.service", import.meta.url));
  const setting = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
  assert.equal(setting("ExecStart"), "/usr/local/bin/wrapp up /etc/wrapp/");
  assert.equal(setting("KillMode"), "mixed", "SIGTERM to wrapp alone, which stops each service");
  assert.equal(setting("RestartPreventExitStatus"), "2");
  // Longer than the default stop_grace (10 s), which every service waits at the same time.
  assert.ok(Number(setting("TimeoutStopSec")?.replace(/s$/, "")) > 10, setting("TimeoutStopSec"));
});
