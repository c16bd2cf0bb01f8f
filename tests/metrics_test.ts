/**
 * `[metrics]` with real processes: a service that holds 100 MiB and spins a core shows it
 * in the counters of the local trace and in Redis DB 2, and the run's peaks land in its
 * exit status.
 */

import assert from "node:assert/strict";
import { readLatestTrace, spawnWrapp, tempDir, type TraceEvent, waitFor } from "./_helpers.ts";
import { startRedis, writeRedisConfig } from "./_redis.ts";

const _MIB = 1024 * 1024;

/** Allocates 100 MiB, touches every page, says so, then spins one core until killed. */
const _HOG = `
b = bytearray(100 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
print("ready", flush=True)
while True:
    pass
`;

function _counters(events: TraceEvent[], name: string): number[] {
  return events.filter((e) => e.ph === "C" && e.name === name).map((e) => Number(e.args?.value));
}

Deno.test("a service holding 100 MiB and spinning a core shows it in the trace and in DB 2", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis();
  const config = await writeRedisConfig(dir.path, {
    executable: "python3",
    args: ["-c", _HOG],
    port: redis.port,
    // The local trace too (a [redis] section turns it off by default).
    extra:
      `[local]\nenabled = true\ndir = "${dir.path}/traces"\n[metrics]\nevery = "1s"\n[crash]\nebpf_backtrace = false`,
  });
  const wrapp = spawnWrapp(["run", config]);
  const values = await redis.client(2);
  try {
    // The machine is shared: a spinning core may get well under 100 % of one.
    await waitFor(
      async () =>
        Number(await values.get("wrapp:svc:rss_bytes")) >= 100 * _MIB &&
        Number(await values.get("wrapp:svc:cpu_pct")) >= 20,
      60_000,
      "RSS >= 100 MiB and CPU >= 20 % in DB 2",
    );
    for (const name of ["pss_bytes", "threads", "fds"]) {
      const value = Number(await values.get(`wrapp:svc:${name}`));
      assert.ok(value > 0, `wrapp:svc:${name} = ${value}`);
    }
    assert.ok(Number(await values.get("wrapp:svc:pss_bytes")) >= 95 * _MIB);
  } finally {
    wrapp.kill("SIGTERM");
  }
  const output = await wrapp.output();
  assert.equal(output.code, 143, new TextDecoder().decode(output.stderr));

  const events = await readLatestTrace(`${dir.path}/traces`);
  const rss = _counters(events, "rss_bytes");
  const cpu = _counters(events, "cpu_pct");
  assert.ok(rss.some((v) => v >= 100 * _MIB), `rss_bytes counters: ${rss}`);
  assert.ok(cpu.some((v) => v >= 20), `cpu_pct counters: ${cpu}`);
  assert.ok(_counters(events, "threads").length > 0);
  const end = events.find((e) => e.ph === "E" && e.tid === 1);
  assert.ok(end, "the run's end");
  assert.ok(Number(end.args?.peak_rss_bytes) >= 100 * _MIB, JSON.stringify(end.args));
  assert.ok(Number(end.args?.peak_cpu_pct) >= 20, JSON.stringify(end.args));
  assert.ok(Number(end.args?.peak_threads) >= 1, JSON.stringify(end.args));
});

Deno.test("[metrics] enabled = false samples nothing", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/svc.toml`;
  await Deno.writeTextFile(
    config,
    `[app]\nexecutable = "/bin/sleep"\nargs = ["2.5"]\nstream_name = "svc"\n[local]\ndir = "${dir.path}/traces"\n[output]\necho = false\n[metrics]\nenabled = false\nevery = "1s"\n[crash]\nebpf_backtrace = false\n`,
  );
  const output = await spawnWrapp(["run", config]).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.deepEqual(events.filter((e) => e.ph === "C"), []);
  const end = events.find((e) => e.ph === "E" && e.tid === 1);
  assert.ok(end && !("peak_rss_bytes" in (end.args ?? {})), JSON.stringify(end?.args));
});
