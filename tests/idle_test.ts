/**
 * A silent service costs nothing: `wrapp run` with a service that prints nothing arms no
 * polling timer (the multi-line tick, the router flush, the spool fsync and Redis health
 * checks wait for work), so over a 10 s window wrapp's own process neither wakes up nor
 * spends CPU time.
 *
 * Both are read from /proc, as the kernel counts them for the wrapp process (here the
 * `deno run main.ts` process, which is wrapp):
 * - CPU time, utime + stime of /proc/<pid>/stat: unlike wall time it does not grow when a
 *   busy machine makes wrapp wait for a core. The bound, 30 ms in 10 s (0.3 % of a core),
 *   leaves room for the 10 ms granularity of the counters and a stray GC step; an idle
 *   wrapp measured 0-10 ms, the former 100 ms multi-line ticker alone 50 ms.
 * - Wake-ups of the main (event loop) thread, voluntary_ctxt_switches of
 *   /proc/<pid>/task/<pid>/status: each return from waiting for events is one, whatever
 *   the load (a preempted thread counts as non-voluntary). An idle wrapp measured 3-9 in
 *   10 s, the former timers 220-250; the bound 20 also catches a single 500 ms poll.
 *
 * `[crash] ebpf_backtrace = false`: the bpftrace watcher of a root wrapp is not part of this.
 * The `[metrics]` sampler stays on (the default): its timer fires every 5 s, and an idle
 * service's values do not change, so it sends nothing; it must fit in these bounds.
 */

import assert from "node:assert/strict";
import { spawnWrapp, tempDir, waitFor, writeConfig, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

const _WINDOW_MS = 10_000;
const _MAX_CPU_MS = 30;
const _MAX_WAKEUPS = 20;
// USER_HZ, the unit of utime and stime: 100 on every Linux architecture wrapp runs on.
const _CLOCK_TICKS = 100;

interface _Usage {
  cpuMs: number;
  wakeups: number;
}

async function _usage(pid: number): Promise<_Usage> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = await Deno.readTextFile(`/proc/${pid}/task/${pid}/status`);
  const wakeups = Number(status.match(/^voluntary_ctxt_switches:\s+(\d+)/m)?.[1]);
  return { cpuMs: ticks * 1000 / _CLOCK_TICKS, wakeups };
}

/** Run a silent service under `extra` config, and return wrapp's usage over the window. */
async function _idleUsage(dir: string, extra: string): Promise<_Usage> {
  const pidFile = `${dir}/service.pid`;
  const service = await writeScript(dir, "silent.sh", `echo $$ > ${pidFile}\nexec sleep 3600`);
  const config = await writeConfig(dir, {
    executable: service,
    extra: `[output]\necho = false\n[crash]\nebpf_backtrace = false\n${extra}`,
  });
  const wrapp = spawnWrapp(["run", config]);
  try {
    await waitFor(async () => (await Deno.stat(pidFile).catch(() => null)) !== null, 30_000);
    // Let start-up finish (module compilation, first GCs) before the window opens.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = await _usage(wrapp.pid);
    await new Promise((resolve) => setTimeout(resolve, _WINDOW_MS));
    const after = await _usage(wrapp.pid);
    return { cpuMs: after.cpuMs - before.cpuMs, wakeups: after.wakeups - before.wakeups };
  } finally {
    wrapp.kill("SIGTERM");
    const output = await wrapp.output();
    assert.equal(output.code, 143, new TextDecoder().decode(output.stderr));
  }
}

function _assertIdle(usage: _Usage): void {
  const seen = `${usage.cpuMs} ms CPU and ${usage.wakeups} wake-ups in ${_WINDOW_MS} ms`;
  assert.ok(usage.cpuMs <= _MAX_CPU_MS, `wrapp spent ${seen}; at most ${_MAX_CPU_MS} ms expected`);
  assert.ok(
    usage.wakeups <= _MAX_WAKEUPS,
    `wrapp's event loop woke up too often: ${seen}; at most ${_MAX_WAKEUPS} wake-ups expected`,
  );
}

Deno.test("wrapp run spends no CPU and does not wake up while its service is silent", async () => {
  await using dir = await tempDir();
  _assertIdle(await _idleUsage(dir.path, ""));
});

Deno.test("wrapp run with [redis] spends no CPU and does not wake up while its service is silent", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis();
  _assertIdle(
    await _idleUsage(dir.path, `[redis]\nport = ${redis.port}\nspool_dir = "${dir.path}/spool"`),
  );
});
