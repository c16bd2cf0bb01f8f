/**
 * `[limits]` with real processes: as root, a service over memory_max is killed by the
 * kernel's OOM killer in its cgroup, reported with the peak and restarted by `[restart]`,
 * and its cgroup is gone afterwards; without cgroups (`WRAPP_CGROUP_ROOT` pointing at an
 * empty folder, the test hook), wrapp stops it when its RSS goes over the limit.
 *
 * The cgroup test needs root: under CI it fails when not root; elsewhere it is skipped.
 */

import assert from "node:assert/strict";
import { readLatestTrace, runWrapp, tempDir, type TraceEvent } from "./_helpers.ts";
import { startRedis, streamMessages } from "./_redis.ts";

const CI = Deno.env.get("CI") === "true";
const isRoot = Deno.uid() === 0;

/** Writes its cgroups to argv[1], then allocates 200 MiB, touching every page, and waits. */
const _HOG = `
import sys, time
open(sys.argv[1], "w").write(open("/proc/self/cgroup").read())
b = bytearray(200 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
time.sleep(120)
`;

/** `<dir>/svc.toml` running {@linkcode _HOG} with memory_max 64M, `extra` appended; `[local]` keeps the trace on with `[redis]`. */
async function _config(dir: string, extra: string): Promise<string> {
  const path = `${dir}/svc.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[app]",
      'executable = "python3"',
      `args = ["-c", ${JSON.stringify(_HOG)}, "${dir}/cgroup.txt"]`,
      'stream_name = "svc"',
      "[local]",
      "enabled = true",
      `dir = "${dir}/traces"`,
      "[output]",
      "echo = false",
      "[crash]",
      "ebpf_backtrace = false",
      "[restart]",
      'policy = "on-failure"',
      'delay = "200ms"',
      "max_restarts = 1",
      "[limits]",
      'memory_max = "64M"',
      extra,
      "",
    ].join("\n"),
  );
  return path;
}

function _statuses(events: TraceEvent[]): string[] {
  return events.filter((e) => e.ph === "i" && e.tid === 4).map((e) => String(e.name));
}

function _runEnds(events: TraceEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.ph === "E" && e.tid === 1).map((e) => e.args ?? {});
}

Deno.test({
  name:
    "as root, a service over memory_max is OOM-killed in its cgroup, reported with the peak, and restarted",
  ignore: !isRoot && !CI,
  fn: async () => {
    assert.ok(isRoot, "cgroups need root (CI runs as root)");
    await using dir = await tempDir();
    await using redis = await startRedis();
    const config = await _config(
      dir.path,
      `[redis]\nport = ${redis.port}\nspool_dir = "${dir.path}/spool"`,
    );
    const result = await runWrapp(["run", config]);
    assert.equal(result.code, 137, result.stderr); // gave up: the last run's SIGKILL
    assert.match(
      result.stderr,
      /limits memory_max 64 MiB: enforced by the kernel in a cgroup of the service's own, because wrapp is root and cgroup v[12] has the memory controller/,
    );

    // The service ran in a cgroup of its own, which is gone now.
    const cgroups = await Deno.readTextFile(`${dir.path}/cgroup.txt`);
    const v1 = /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(cgroups)?.[1];
    const folder = v1 !== undefined
      ? `/sys/fs/cgroup/memory${v1}`
      : `/sys/fs/cgroup${/^0::(.*)$/m.exec(cgroups)?.[1]}`;
    assert.match(folder, /\/wrapp\/svc$/, cgroups);
    assert.equal(await Deno.stat(folder).then(() => true, () => false), false, `${folder} remains`);

    const events = await readLatestTrace(`${dir.path}/traces`);
    const oom = _statuses(events).filter((s) => s.startsWith("Killed by the kernel's OOM killer"));
    assert.equal(oom.length, 2, _statuses(events).join("\n"));
    assert.match(oom[0], /^Killed by the kernel's OOM killer: memory_max 64 MiB reached \(peak \d/);
    assert.ok(_statuses(events).some((s) => s.startsWith("restarting svc in 200 ms (attempt 1)")));
    const ends = _runEnds(events);
    assert.equal(ends.length, 2);
    for (const end of ends) {
      assert.equal(end.signal, "SIGKILL", JSON.stringify(end));
      assert.equal(end.limit_exceeded, "memory_max", JSON.stringify(end));
      assert.equal(end.oom_kills, 1, JSON.stringify(end));
    }
    // The same status entries in Redis.
    const status = await streamMessages(await redis.client(1), "logs:app:svc:status");
    assert.ok(
      status.some((m) => m.startsWith("Killed by the kernel's OOM killer: memory_max 64 MiB")),
      status.join("\n"),
    );
  },
});

Deno.test("without cgroups, wrapp stops a service whose RSS goes over memory_max, and [restart] restarts it", async () => {
  await using dir = await tempDir();
  await using empty = await tempDir();
  // [metrics] off: the limit still samples the RSS, without emitting metrics.
  const config = await _config(dir.path, '[metrics]\nenabled = false\nevery = "1s"');
  const result = await runWrapp(["run", config], { env: { WRAPP_CGROUP_ROOT: empty.path } });
  assert.equal(result.code, 143, result.stderr); // gave up: the last run's SIGTERM
  const reason = isRoot
    ? `no cgroup filesystem in "${empty.path}" ($WRAPP_CGROUP_ROOT) has the memory controller (none is mounted)`
    : "wrapp is not root (a cgroup of its own needs root)";
  assert.ok(
    result.stderr.includes(
      `limits memory_max 64 MiB: memory_max checked against the RSS every 1000 ms, because ${reason}`,
    ),
    result.stderr,
  );
  const cgroups = await Deno.readTextFile(`${dir.path}/cgroup.txt`);
  assert.doesNotMatch(cgroups, /\/wrapp\/svc$/m);

  const events = await readLatestTrace(`${dir.path}/traces`);
  const stops = _statuses(events).filter((s) => s.startsWith("Stopped by wrapp"));
  assert.equal(stops.length, 2, _statuses(events).join("\n"));
  assert.match(
    stops[0],
    /^Stopped by wrapp: RSS [\d.]+ MiB over memory_max 64 MiB \(peak [\d.]+ MiB\)$/,
  );
  assert.ok(_statuses(events).some((s) => s.startsWith("restarting svc in 200 ms (attempt 1)")));
  for (const end of _runEnds(events)) {
    assert.equal(end.signal, "SIGTERM", JSON.stringify(end));
    assert.equal(end.limit_exceeded, "memory_max", JSON.stringify(end));
  }
  assert.deepEqual(events.filter((e) => e.ph === "C"), [], "no metrics with [metrics] off");
});

Deno.test("wrapp doctor --config says how [limits] will be enforced, and why", async () => {
  await using dir = await tempDir();
  await using empty = await tempDir();
  const config = await _config(dir.path, 'cpu_max = "50%"');
  const result = await runWrapp(["doctor", "--config", config, "--json"], {
    env: { WRAPP_CGROUP_ROOT: empty.path },
  });
  const checks = JSON.parse(result.stdout) as { check: string; status: string; message: string }[];
  const limits = checks.find((c) => c.check === "limits");
  assert.ok(limits, result.stdout);
  assert.equal(limits.status, "warning");
  assert.match(
    limits.message,
    /^memory_max: wrapp stops the service when its RSS goes over it, because /,
  );
  assert.match(limits.message, /cpu_max needs a cgroup/);
});

Deno.test({
  name: "as root, cpu_max holds a spinning service to its quota in its cgroup",
  ignore: !isRoot && !CI,
  fn: async () => {
    assert.ok(isRoot, "cgroups need root (CI runs as root)");
    await using dir = await tempDir();
    const spin = `import sys, time
open(sys.argv[1], "w").write(open("/proc/self/cgroup").read())
t = time.time()
while time.time() - t < 4:
    pass
`;
    await Deno.writeTextFile(
      `${dir.path}/svc.toml`,
      [
        "[app]",
        'executable = "python3"',
        `args = ["-c", ${JSON.stringify(spin)}, "${dir.path}/cgroup.txt"]`,
        'stream_name = "svc"',
        "[local]",
        `dir = "${dir.path}/traces"`,
        "[output]",
        "echo = false",
        "[crash]",
        "ebpf_backtrace = false",
        "[metrics]",
        'every = "1s"',
        "[limits]",
        'cpu_max = "20%"',
        "",
      ].join("\n"),
    );
    const result = await runWrapp(["run", `${dir.path}/svc.toml`]);
    assert.equal(result.code, 0, result.stderr);
    // In a cgroup of its own for the cpu controller (v1: "N:cpu…:/…/wrapp/svc"; v2: "0::/wrapp/svc").
    const cgroups = await Deno.readTextFile(`${dir.path}/cgroup.txt`);
    assert.match(cgroups, /^(\d+:[^:]*\bcpu\b[^:]*|0:):.*\/wrapp\/svc$/m);
    const events = await readLatestTrace(`${dir.path}/traces`);
    const cpu = events.filter((e) => e.ph === "C" && e.name === "cpu_pct").map((e) =>
      Number(e.args?.value)
    );
    assert.ok(cpu.length >= 2, `cpu_pct counters: ${cpu}`);
    // 20 ms of every 100 ms period (unlimited, it would take a whole core): a sample over
    // about 1 s of a busy machine may be off by a few periods, their mean may not.
    assert.ok(cpu.every((v) => v <= 40), `cpu_pct counters: ${cpu}`);
    const mean = cpu.reduce((a, b) => a + b, 0) / cpu.length;
    assert.ok(mean <= 25, `mean ${mean} of cpu_pct counters ${cpu}`);
    assert.ok(cpu.some((v) => v >= 5), `cpu_pct counters: ${cpu}`);
  },
});
