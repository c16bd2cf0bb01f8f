/**
 * `wrapp ps` against real wrapps: one `wrapp run` and one `wrapp up` of three services at
 * once (each test in its own runtime folder, so the wrapps of tests running beside it
 * are not seen), a crash-restart, a stopped wrapp that does not answer, a socket left by
 * a killed wrapp, `--json`, and `--redis` against a real redis-server.
 */

import assert from "node:assert/strict";
import { runWrapp, spawnWrapp, tempDir, waitFor, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

interface _Service {
  name: string | null;
  host?: string;
  wrapp_pid: number | null;
  pid: number | null;
  state: string;
  uptime_ms: number | null;
  restarts: number | null;
  last_exit: { code?: number; signal?: string; at: number } | null;
  lines: number | null;
  lines_per_s: number | null;
  cpu_percent: number | null;
  rss_bytes: number | null;
  config: string | null;
  heartbeat?: number;
  problem?: string;
}

/** Write `<dir>/<name>.toml` running `script` with a local trace (and a Redis sink on `redisPort`). */
async function config(
  dir: string,
  name: string,
  script: string,
  options: { redisPort?: number } = {},
): Promise<string> {
  const path = `${dir}/${name}.toml`;
  const lines = [
    "[app]",
    `executable = ${JSON.stringify(script)}`,
    `stream_name = ${JSON.stringify(name)}`,
    "[output]",
    "echo = false",
    "[restart]",
    'policy = "on-failure"',
    'delay = "100ms"',
    "[crash]",
    "enabled = false",
    "[local]",
    "enabled = true",
    `dir = ${JSON.stringify(`${dir}/traces-${name}`)}`,
  ];
  if (options.redisPort !== undefined) {
    lines.push(
      "[redis]",
      `port = ${options.redisPort}`,
      `spool_dir = ${JSON.stringify(`${dir}/spool-${name}`)}`,
    );
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** A service that crashes with SIGSEGV on its first run and then waits. */
function crasherScript(dir: string): Promise<string> {
  return writeScript(
    dir,
    "crasher.sh",
    [
      `n=$(cat "${dir}/count" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/count"`,
      'echo "crasher run $((n + 1))"',
      'if [ "$n" = 0 ]; then kill -SEGV $$; fi',
      "exec sleep 600",
    ].join("\n"),
  );
}

/** `wrapp ps --json ARGS…`, parsed. */
async function psJson(args: string[]): Promise<_Service[]> {
  const result = await runWrapp(["ps", "--json", ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** SIGTERM each wrapp and wait for it. */
async function stopAll(wrapps: Deno.ChildProcess[]): Promise<void> {
  for (const wrapp of wrapps) {
    try {
      wrapp.kill("SIGCONT");
      wrapp.kill("SIGTERM");
    } catch {
      // Ended already.
    }
  }
  await Promise.all(wrapps.map((wrapp) => wrapp.output()));
}

Deno.test("wrapp ps lists a wrapp run and a wrapp up side by side: pids, restarts, last exit, an exited service, lines/s, CPU, RSS", async () => {
  await using dir = await tempDir();
  const run = `${dir.path}/run`;
  const env = { WRAPP_RUNTIME_DIR: run };
  const chatty = await writeScript(
    dir.path,
    "chatty.sh",
    'while :; do echo "tick $RANDOM"; sleep 0.02; done',
  );
  // The CPU is burnt by a child: the whole tree counts.
  const busy = await writeScript(dir.path, "busy.sh", "( while :; do :; done ) &\nexec sleep 600");
  await Deno.mkdir(`${dir.path}/up`);
  await config(`${dir.path}/up`, "busy", busy);
  await config(`${dir.path}/up`, "crasher", await crasherScript(dir.path));
  // Ends for good at once (exit 0, policy on-failure) while the others of its wrapp run.
  await config(`${dir.path}/up`, "done", await writeScript(dir.path, "done.sh", "echo done"));
  const wrapps = [
    spawnWrapp(["run", await config(dir.path, "chatty", chatty)], { env }),
    spawnWrapp(["up", `${dir.path}/up`], { env }),
  ];
  try {
    let services: _Service[] = [];
    await waitFor(
      async () => {
        services = await psJson(["--runtime-dir", run, "--sample", "0"]);
        return services.length === 4 &&
          services.filter((s) => s.state === "running" && s.pid !== null).length === 3 &&
          services.find((s) => s.name === "crasher")?.restarts === 1 &&
          services.find((s) => s.name === "done")?.state === "exited";
      },
      60_000,
      "three running services, the crasher restarted once, one exited",
    );

    services = await psJson(["--runtime-dir", run, "--sample", "1s"]);
    assert.deepEqual(services.map((s) => s.name), ["busy", "chatty", "crasher", "done"]);
    const [busyRow, chattyRow, crasherRow, doneRow] = services;
    assert.deepEqual(
      [doneRow.state, doneRow.wrapp_pid, doneRow.pid, doneRow.restarts, doneRow.last_exit?.code],
      ["exited", wrapps[1].pid, null, 0, 0],
    );
    assert.equal(doneRow.lines, 1);
    assert.equal(doneRow.cpu_percent, null);
    assert.equal(chattyRow.wrapp_pid, wrapps[0].pid);
    assert.equal(busyRow.wrapp_pid, wrapps[1].pid, "the services of wrapp up share one wrapp");
    assert.equal(crasherRow.wrapp_pid, wrapps[1].pid);
    for (const service of [busyRow, chattyRow, crasherRow]) {
      assert.equal(service.state, "running", service.name!);
      // The pid is the service's own process, a child of its wrapp.
      const stat = await Deno.readTextFile(`/proc/${service.pid}/stat`);
      assert.equal(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), service.wrapp_pid);
      assert.ok(service.uptime_ms! >= 0 && service.uptime_ms! < 120_000, `${service.uptime_ms}`);
      assert.ok(service.rss_bytes! > 0, `${service.name} rss ${service.rss_bytes}`);
      assert.ok(service.cpu_percent !== null && service.lines_per_s !== null);
    }
    assert.equal(chattyRow.restarts, 0);
    assert.equal(chattyRow.last_exit, null);
    assert.ok(chattyRow.lines_per_s! > 1, `chatty printed ${chattyRow.lines_per_s} lines/s`);
    assert.ok(chattyRow.lines! > 0);
    assert.ok(busyRow.cpu_percent! > 1, `busy used ${busyRow.cpu_percent}% CPU`);
    assert.ok(busyRow.cpu_percent! > crasherRow.cpu_percent!);
    assert.equal(crasherRow.restarts, 1);
    assert.equal(crasherRow.last_exit?.signal, "SIGSEGV");
    assert.ok(Date.now() - crasherRow.last_exit!.at < 120_000);
    assert.equal(crasherRow.lines, 2, "one line per run");

    const table = await runWrapp(["ps", "--runtime-dir", run, "--sample", "200ms"]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(
      lines[0],
      /^NAME +WRAPP +PID +STATE +UPTIME +RESTARTS +LAST EXIT +LINES\/S +CPU +RSS$/,
    );
    assert.equal(lines.length, 5, table.stdout);
    assert.match(
      lines[3],
      /^crasher +\d+ +\d+ +running +\d+s +1 +SIGSEGV \d+s ago +\S+ +\S+% +\S+ [KM]iB$/,
    );
    assert.match(lines[4], /^done +\d+ +- +exited +- +0 +exit 0 \d+s ago +0 +- +-$/);
    // Aligned: every row's STATE starts under the header's.
    const at = lines[0].indexOf("STATE");
    for (const line of lines.slice(1)) {
      assert.match(line.slice(at), /^(running|exited) /, table.stdout);
    }
  } finally {
    await stopAll(wrapps);
  }
  assert.deepEqual(await Array.fromAsync(Deno.readDir(run)), [], "the sockets are removed at exit");
  const none = await runWrapp(["ps", "--runtime-dir", run]);
  assert.equal(none.stdout.trim(), `No wrapp is running (looked in ${run})`);
  assert.deepEqual(await psJson(["--runtime-dir", run]), []);
});

Deno.test("wrapp ps shows a wrapp that does not answer as such, and forgets a killed one", async () => {
  await using dir = await tempDir();
  const run = `${dir.path}/run`;
  const env = { WRAPP_RUNTIME_DIR: run };
  const sleeper = await writeScript(dir.path, "sleeper.sh", "exec sleep 600");
  const wrapps = [
    spawnWrapp(["run", await config(dir.path, "frozen", sleeper)], { env }),
    spawnWrapp(["run", await config(dir.path, "killed", sleeper)], { env }),
  ];
  let orphan: number | null = null;
  try {
    let before: _Service[] = [];
    await waitFor(
      async () => {
        before = await psJson(["--runtime-dir", run, "--sample", "0"]);
        return before.length === 2 && before.every((s) => s.pid !== null);
      },
      60_000,
      "two services",
    );
    // A wrapp killed with SIGKILL leaves its service behind: the test ends it.
    orphan = before.find((s) => s.name === "killed")!.pid;
    wrapps[0].kill("SIGSTOP");
    wrapps[1].kill("SIGKILL");
    await wrapps[1].status;
    const socket = `${run}/${wrapps[1].pid}.sock`;
    assert.ok((await Deno.lstat(socket)).isSocket, "a killed wrapp leaves its socket");

    const started = performance.now();
    const services = await psJson(["--runtime-dir", run, "--timeout", "500ms"]);
    assert.ok(performance.now() - started < 20_000, "no hang");
    assert.equal(services.length, 1, JSON.stringify(services));
    assert.equal(services[0].name, null);
    assert.equal(services[0].state, "no answer");
    assert.equal(services[0].wrapp_pid, wrapps[0].pid);
    assert.match(services[0].problem!, /no answer within 500 ms \(.*\brun .*frozen\.toml\)$/);
    await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound, "the stale socket is removed");

    const table = await runWrapp(["ps", "--runtime-dir", run, "--timeout", "300ms"]);
    assert.match(table.stdout, /^\? +\d+ +- +no answer +- +- +- +- +- +-$/m);
    assert.match(
      table.stdout,
      new RegExp(`^wrapp pid ${wrapps[0].pid} no answer within 300 ms`, "m"),
    );
  } finally {
    await stopAll(wrapps);
    if (orphan !== null) Deno.kill(orphan, "SIGKILL");
  }
});

Deno.test("wrapp ps --redis reads the state hashes of two services from DB 5", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const env = { WRAPP_RUNTIME_DIR: `${dir.path}/run` };
  const sleeper = await writeScript(dir.path, "sleeper.sh", 'echo "up"\nexec sleep 600');
  const crasher = await crasherScript(dir.path);
  const redisPort = redis.port;
  await Deno.mkdir(`${dir.path}/up`);
  await config(`${dir.path}/up`, "steady", sleeper, { redisPort });
  await config(`${dir.path}/up`, "crashy", crasher, { redisPort });
  const wrapp = spawnWrapp(["up", `${dir.path}/up`], { env });
  const url = `redis://127.0.0.1:${redis.port}`;
  try {
    let services: _Service[] = [];
    await waitFor(
      async () => {
        services = await psJson(["--redis", url]);
        return services.length === 2 && services.every((s) => s.state === "running") &&
          services[0].restarts === 1;
      },
      60_000,
      "two running services in Redis, crashy restarted once",
    );
    const [crashy, steady] = services;
    assert.equal(crashy.name, "crashy");
    assert.equal(steady.name, "steady");
    const state = await redis.client(5);
    for (const service of services) {
      assert.equal(service.host, Deno.hostname());
      assert.equal(service.pid, Number(await state.hget(`wrapp:${service.name}:state`, "pid")));
      assert.ok(service.uptime_ms! >= 0 && service.uptime_ms! < 120_000);
      assert.ok(Date.now() - service.heartbeat! < 120_000);
      // Not in Redis: left unknown rather than made up.
      assert.equal(service.cpu_percent, null);
      assert.equal(service.rss_bytes, null);
    }
    assert.equal(crashy.last_exit?.signal, "SIGSEGV");
    assert.equal(steady.last_exit, null);

    const table = await runWrapp(["ps", "--redis", url]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^NAME +HOST +PID +STATE +UPTIME +RESTARTS +LAST EXIT +SEEN$/);
    assert.match(lines[1], /^crashy +\S+ +\d+ +running +\d+s +1 +SIGSEGV \d+s ago +\d+s ago$/);
    assert.match(lines[2], /^steady +\S+ +\d+ +running +\d+s +0 +- +\d+s ago$/);
  } finally {
    await stopAll([wrapp]);
  }
  const after = await psJson(["--redis", url]);
  assert.deepEqual(after.map((s) => [s.name, s.state, s.last_exit?.signal]), [
    ["crashy", "exited", "SIGTERM"],
    ["steady", "exited", "SIGTERM"],
  ]);

  const down = await runWrapp(["ps", "--redis", "redis://127.0.0.1:1"]);
  assert.equal(down.code, 69);
  assert.match(down.stderr, /Cannot connect to Redis at "127\.0\.0\.1:1": connection refused/);
});
