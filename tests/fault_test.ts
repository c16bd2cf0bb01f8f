/**
 * Faults with real parts: wrapp must not hang when Redis goes away at shutdown, must not
 * leave processes of the service's group behind after a stop or a restart, must refuse a
 * bad Redis URL with a precise message, and must not hand its secrets to the service.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  waitFor,
  writeConfig,
  writeScript,
} from "./_helpers.ts";
import {
  type RedisServer,
  startRedis,
  streamMessages as messages,
  writeRedisConfig,
} from "./_redis.ts";
import { parseStatGroup } from "../lib/features/run/process_group.ts";

const isRoot = Deno.uid() === 0;
const CI = Deno.env.get("CI") === "true";

/** A config streaming `executable` into `redis` in our layout (its status texts); `extra` goes in [app]. */
function redisConfig(
  dir: string,
  app: { executable: string; args?: string[]; port: number; extra?: string },
): Promise<string> {
  const { extra, ...rest } = app;
  return writeRedisConfig(dir, { ...rest, appExtra: extra, layout: "wrapp" });
}

/** Resolves with wrapp's exit code and how long it took from `since`; SIGKILLs it after `limitMs` (a hang). */
async function exitWithin(
  wrapp: Deno.ChildProcess,
  since: number,
  limitMs: number,
): Promise<{ code: number; ms: number; stderr: string; hung: boolean }> {
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    wrapp.kill("SIGKILL");
  }, limitMs);
  const output = await wrapp.output();
  clearTimeout(guard);
  return {
    code: output.code,
    ms: performance.now() - since,
    stderr: new TextDecoder().decode(output.stderr),
    hung,
  };
}

/** Wait until wrapp's control reader is connected (its client name shows in CLIENT LIST). */
async function controlConnected(redis: RedisServer): Promise<void> {
  const admin = await redis.client(0);
  await waitFor(
    async () => String(await admin.call("CLIENT", "LIST")).includes("name=wrapp:svc:control"),
    15_000,
    "the control stream reader",
  );
}

// RedisSink.close(): delivery that makes no progress for 5 s is given up (see the README).
const STALL_MS = 5000;
// Slack for a loaded machine on top of the bound.
const SLACK_MS = 4000;

for (const restartAfterMs of [undefined, 1500]) {
  Deno.test(
    `Redis killed while the service ends${
      restartAfterMs ? ` (and back ${restartAfterMs} ms later)` : ""
    }: wrapp exits with its code within the stall bound, the rest waits in the spool`,
    async () => {
      await using redis = await startRedis();
      await using dir = await tempDir();
      const script = await writeScript(
        dir.path,
        "svc.sh",
        `echo before
while [ ! -e ${dir.path}/go ]; do sleep 0.02; done
echo after
exit 3`,
      );
      const config = await redisConfig(dir.path, { executable: script, port: redis.port });
      const wrapp = spawnWrapp(["run", config]);
      const logs = await redis.client(1);
      await waitFor(async () => (await messages(logs, "logs:app:svc:info")).includes("before"));
      await controlConnected(redis);
      await redis.stop(); // the control reader is blocked in XREAD: ioredis starts reconnecting
      const since = performance.now();
      await Deno.writeTextFile(`${dir.path}/go`, "");
      const back = restartAfterMs === undefined
        ? undefined
        : new Promise((resolve) => setTimeout(resolve, restartAfterMs)).then(() => redis.restart());
      const result = await exitWithin(wrapp, since, 30_000);
      await back;
      assert.ok(!result.hung, `wrapp hung after the service ended:\n${result.stderr}`);
      assert.equal(result.code, 3, result.stderr);
      assert.ok(result.ms < STALL_MS + SLACK_MS, `wrapp exited ${Math.round(result.ms)} ms after`);

      // The next wrapp delivers what the first one left in the spool.
      if (!redis.running) await redis.restart();
      await Deno.writeTextFile(script, "#!/bin/sh\necho second run\n");
      const second = await runWrapp(["run", config]);
      assert.equal(second.code, 0, second.stderr);
      const lines = await messages(await redis.client(1), "logs:app:svc:info");
      assert.ok(lines.includes("after"), lines.join("\n"));
      assert.equal(lines.at(-1), "second run");
      const status = await messages(await redis.client(1), "logs:app:svc:status");
      assert.ok(
        status.some((m) => /^svc ended with exit code 3 after /.test(m)),
        status.join("\n"),
      );
    },
  );
}

Deno.test("SIGTERM, twice, to wrapp while Redis is down: the service's code, no hang, the rest in the spool", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  // The service takes 300 ms to die of the SIGTERM, so the second one below lands while
  // wrapp waits for it, however fast wrapp itself winds down.
  const script = await writeScript(
    dir.path,
    "svc.sh",
    "trap 'trap - TERM; sleep 0.3; kill -TERM $$' TERM\necho before\nsleep 60 &\nwait",
  );
  const config = await redisConfig(dir.path, { executable: script, port: redis.port });
  const wrapp = spawnWrapp(["run", config]);
  await waitFor(async () =>
    (await messages(await redis.client(1), "logs:app:svc:info")).includes("before")
  );
  await controlConnected(redis);
  await redis.stop();
  const since = performance.now();
  wrapp.kill("SIGTERM");
  // A second SIGTERM while wrapp winds down (the service's end, its last events) does not
  // cut that short.
  await new Promise((resolve) => setTimeout(resolve, 50));
  wrapp.kill("SIGTERM");
  const result = await exitWithin(wrapp, since, 30_000);
  assert.ok(!result.hung, `wrapp hung after SIGTERM:\n${result.stderr}`);
  assert.equal(result.code, 143, result.stderr);
  assert.ok(result.ms < STALL_MS + SLACK_MS, `wrapp exited ${Math.round(result.ms)} ms after`);

  await redis.restart();
  await Deno.writeTextFile(script, "#!/bin/sh\necho second run\n");
  const second = await runWrapp(["run", config]);
  assert.equal(second.code, 0, second.stderr);
  const status = await messages(await redis.client(1), "logs:app:svc:status");
  assert.ok(
    status.some((m) => /^svc ended with signal SIGTERM after /.test(m)),
    status.join("\n"),
  );
});

/** Pids of the processes whose command line is `sleep <tag>.<i>`. */
async function sleepers(tag: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (new RegExp(`^sleep\\x00${tag}\\.\\d\\x00$`).test(cmdline)) {
        found.push(Number(entry.name));
      }
    } catch {
      // ended while we looked
    }
  }
  return found.sort((a, b) => a - b);
}

/** A service whose two background processes ignore SIGTERM, tagged with a number nobody else uses. */
function stubbornService(): { tag: string; args: string[] } {
  const tag = `78${Math.floor(Math.random() * 1e6)}`;
  return {
    tag,
    args: ["-c", `for i in 1 2; do (trap "" TERM; exec sleep ${tag}.$i) & done; wait`],
  };
}

/** SIGKILL whatever a failed test left: wrapp, and the groups of the tagged sleepers (by id, never by name). */
async function cleanUp(wrapp: Deno.ChildProcess | undefined, tag: string): Promise<void> {
  try {
    wrapp?.kill("SIGKILL");
  } catch { /* exited */ }
  for (const pid of await sleepers(tag)) {
    try {
      const stat = parseStatGroup(await Deno.readTextFile(`/proc/${pid}/stat`));
      Deno.kill(-(stat?.pgrp ?? pid), "SIGKILL");
    } catch { /* gone */ }
  }
}

Deno.test("SIGTERM to wrapp: processes of the service's group that ignore it are SIGKILLed after stop_grace", async () => {
  await using dir = await tempDir();
  const { tag, args } = stubbornService();
  let wrapp: Deno.ChildProcess | undefined;
  try {
    const config = await writeConfig(dir.path, { executable: "/bin/bash", args });
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace("[app]\n", '[app]\nstop_grace = "2s"\n'),
    );
    wrapp = spawnWrapp(["run", config]);
    await waitFor(async () => (await sleepers(tag)).length === 2, 15_000, "two sleepers");
    const since = performance.now();
    wrapp.kill("SIGTERM");
    const result = await exitWithin(wrapp, since, 30_000);
    assert.equal(result.code, 143, result.stderr);
    assert.deepEqual(await sleepers(tag), [], "survivors after wrapp exited");
    assert.ok(result.ms >= 1900, `exited after ${Math.round(result.ms)} ms, before stop_grace`);
    const events = await readLatestTrace(`${dir.path}/traces`);
    assert.match(JSON.stringify(events), /svc did not stop within 2000 ms; sent SIGKILL/);
  } finally {
    await cleanUp(wrapp, tag);
  }
});

Deno.test("restart and stop from the control stream leave no process of the old group behind", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const { tag, args } = stubbornService();
  let wrapp: Deno.ChildProcess | undefined;
  try {
    const config = await redisConfig(dir.path, {
      executable: "/bin/bash",
      args,
      port: redis.port,
      extra: 'stop_grace = "2s"',
    });
    wrapp = spawnWrapp(["run", config]);
    const control = await redis.client(5);
    await controlConnected(redis);
    let previous: number[] = [];
    for (let restart = 0; restart <= 3; restart++) {
      if (restart > 0) await control.xadd("wrapp:svc:control", "*", "cmd", "restart");
      // The new pair is up: the old pair must be gone by then (killed before the new start).
      await waitFor(
        async () => {
          const now = await sleepers(tag);
          return now.length >= 2 && now.every((pid) => !previous.includes(pid));
        },
        20_000,
        `the sleepers of run ${restart + 1}`,
      );
      const now = await sleepers(tag);
      assert.equal(now.length, 2, `after ${restart} restarts: ${now}`);
      previous = now;
    }
    await control.xadd("wrapp:svc:control", "*", "cmd", "stop");
    const result = await exitWithin(wrapp, performance.now(), 30_000);
    assert.equal(result.code, 143, result.stderr);
    assert.deepEqual(await sleepers(tag), [], "survivors after stop");
  } finally {
    await cleanUp(wrapp, tag);
  }
});

Deno.test("a malformed Redis URL, port 0 or spool_max_bytes = 0 is refused precisely (exit 2) by check and run", async () => {
  await using dir = await tempDir();
  const cases: [string, RegExp][] = [
    [
      'url = "redis://:%E0%A4%A@127.0.0.1:1"',
      /: "url" in \[redis\]: the password has an invalid %-escape \(write "%" as "%25"\)$/m,
    ],
    ['url = "redis://127.0.0.1:0"', /: "url" in \[redis\]: port 0 is not a valid port/m],
    ["spool_max_bytes = 0", /"spool_max_bytes" in \[redis\] must be an integer of at least 1/m],
  ];
  for (const [line, message] of cases) {
    const config = `${dir.path}/svc.toml`;
    await Deno.writeTextFile(
      config,
      `[app]\nexecutable = "true"\n[redis]\n${line}\nspool_dir = "${dir.path}/spool"\n`,
    );
    for (const command of ["check", "run"]) {
      const result = await runWrapp([command, config]);
      assert.equal(result.code, 2, `${command} with ${line}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /internal error|URIError|%E0%A4%A/);
    }
  }
  const url = "redis://:%E0%A4%A@127.0.0.1:1";
  for (
    const args of [["logs", "svc", "--url", url], ["doctor", "--redis", url], [
      "trace",
      "--redis",
      url,
      "--",
      "true",
    ]]
  ) {
    const result = await runWrapp(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /^wrapp: Invalid --(url|redis): the password has an invalid %-escape \(write "%" as "%25"\)$/m,
    );
    assert.doesNotMatch(result.stderr, /internal error|URIError|%E0%A4%A/);
  }
});

/** Run `env` as the service (optionally as `user`) with secrets in wrapp's environment; its lines. */
async function serviceEnv(dir: string, user?: string): Promise<string[]> {
  const config = await writeConfig(dir, { executable: "/usr/bin/env", name: "envsvc" });
  if (user) {
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace("[app]\n", `[app]\nuser = "${user}"\n`),
    );
  }
  const result = await runWrapp(["run", config], {
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      WRAPP_REDIS_PASSWORD: "horse-battery-staple",
      WRAPP_API_TOKEN: "tok-123",
      WRAPP_SITE: "lab",
      PLAIN: "kept",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  return logTexts(await readLatestTrace(`${dir}/traces`));
}

Deno.test("wrapp's secrets (WRAPP_REDIS_PASSWORD, WRAPP_*_TOKEN…) never reach the service's environment", async () => {
  await using dir = await tempDir();
  const lines = await serviceEnv(dir.path);
  assert.ok(lines.includes("PLAIN=kept"), lines.join("\n"));
  assert.ok(lines.includes("WRAPP_SITE=lab"), "other WRAPP_ variables pass");
  assert.ok(!lines.some((l) => /^WRAPP_(REDIS_PASSWORD|API_TOKEN)=/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => /horse-battery-staple|tok-123/.test(l)));
});

Deno.test({
  name: "wrapp's secrets never reach a service that runs as another user",
  ignore: !isRoot && !CI,
  async fn() {
    assert.equal(Deno.uid(), 0, "this test needs root (CI runs as root)");
    await using dir = await tempDir();
    const lines = await serviceEnv(dir.path, "nobody");
    assert.ok(lines.includes("USER=nobody"), lines.join("\n"));
    assert.ok(lines.includes("PLAIN=kept"), lines.join("\n"));
    assert.ok(!lines.some((l) => /horse-battery-staple|tok-123/.test(l)), lines.join("\n"));
  },
});
