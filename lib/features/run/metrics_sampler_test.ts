import assert from "node:assert/strict";
import type { MetricEvent } from "../../core/event.ts";
import { MetricsSampler, peakFields } from "./metrics_sampler.ts";

async function _writeProcess(
  procDir: string,
  pid: number,
  options: { ticks: number; threads: number; rssKb: number; pssKb: number; fds: number },
): Promise<void> {
  const dir = `${procDir}/${pid}`;
  await Deno.mkdir(`${dir}/task/${pid}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/task/${pid}/children`, "");
  await Deno.writeTextFile(
    `${dir}/stat`,
    `${pid} (svc) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 ${options.ticks} 0 0 0 20 0 ${options.threads} 0 1 1 1\n`,
  );
  await Deno.writeTextFile(
    `${dir}/smaps_rollup`,
    `Rss:  ${options.rssKb} kB\nPss:  ${options.pssKb} kB\n`,
  );
  await Deno.remove(`${dir}/fd`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/fd`);
  for (let fd = 0; fd < options.fds; fd++) await Deno.writeTextFile(`${dir}/fd/${fd}`, "");
}

Deno.test("MetricsSampler emits the values that changed, as metric events with op set", async () => {
  const procDir = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  const batches: MetricEvent[][] = [];
  try {
    await _writeProcess(procDir, 42, { ticks: 100, threads: 2, rssKb: 1024, pssKb: 512, fds: 3 });
    const sampler = MetricsSampler.start(42, {
      everyMs: 3_600_000,
      procDir,
      emit: (events) => batches.push(events),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await _writeProcess(procDir, 42, { ticks: 110, threads: 2, rssKb: 2048, pssKb: 512, fds: 3 });
      const first = sampler.sample();
      assert.ok(first);
      // 10 ticks = 100 ms of CPU in about 200 ms of wall time: about 50 %.
      assert.ok(first.cpuPct > 5 && first.cpuPct <= 55, `${first.cpuPct}`);
      assert.equal(first.rssBytes, 2048 * 1024);
      assert.deepEqual(
        batches[0].map((e) => [e.name, e.op, e.numeric, e.stream]),
        [
          ["cpu_pct", "set", first.cpuPct, undefined],
          ["rss_bytes", "set", 2048 * 1024, undefined],
          ["pss_bytes", "set", 512 * 1024, undefined],
          ["threads", "set", 2, undefined],
          ["fds", "set", 3, undefined],
        ],
      );
      assert.equal(batches[0][1].value, String(2048 * 1024));
      // Idle and unchanged but for the threads: only they are emitted.
      await _writeProcess(procDir, 42, { ticks: 110, threads: 3, rssKb: 2048, pssKb: 512, fds: 3 });
      const second = sampler.sample();
      assert.equal(second?.cpuPct, 0);
      assert.deepEqual(batches[1].map((e) => [e.name, e.numeric]), [["cpu_pct", 0], [
        "threads",
        3,
      ]]);
      // Nothing changed: nothing emitted.
      sampler.sample();
      assert.equal(batches.length, 2);
      // Memory that moved by less than 256 KiB (and 1 %) is not worth waking the sinks for…
      await _writeProcess(procDir, 42, { ticks: 110, threads: 3, rssKb: 2048, pssKb: 700, fds: 3 });
      sampler.sample();
      assert.equal(batches.length, 2);
      // …but it adds up from the value last emitted.
      await _writeProcess(procDir, 42, { ticks: 110, threads: 3, rssKb: 2048, pssKb: 800, fds: 3 });
      sampler.sample();
      assert.deepEqual(batches[2].map((e) => [e.name, e.numeric]), [["pss_bytes", 800 * 1024]]);
      assert.deepEqual(peakFields(sampler.stop()), {
        peak_cpu_pct: first.cpuPct,
        peak_rss_bytes: 2048 * 1024,
        peak_pss_bytes: 800 * 1024,
        peak_threads: 3,
        peak_fds: 3,
      });
      assert.equal(sampler.sample(), undefined, "no sample once stopped");
    } finally {
      sampler.stop();
    }
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});

Deno.test("MetricsSampler samples on its timer and stops with the service", async () => {
  const procDir = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  try {
    await _writeProcess(procDir, 7, { ticks: 0, threads: 1, rssKb: 4, pssKb: 4, fds: 1 });
    const seen: number[] = [];
    const sampler = MetricsSampler.start(7, {
      everyMs: 20,
      procDir,
      onSample: (sample) => seen.push(sample.rssBytes),
    });
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    sampler.stop();
    const count = seen.length;
    assert.ok(count >= 3, `${count} samples`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(seen.length, count, "no sample after stop()");
    // The tree is gone: no sample, and no peak fields for a run without samples.
    await Deno.remove(`${procDir}/7`, { recursive: true });
    const gone = MetricsSampler.start(7, { everyMs: 3_600_000, procDir });
    assert.equal(gone.sample(), undefined);
    assert.deepEqual(peakFields(gone.stop()), {});
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});

Deno.test("MetricsSampler waits twice as long after each quiet sample, up to maxQuietMs, and not with an RSS check", async () => {
  const procDir = await Deno.makeTempDir({ prefix: "wrapp-proc-" });
  try {
    await _writeProcess(procDir, 42, { ticks: 100, threads: 2, rssKb: 1024, pssKb: 512, fds: 3 });
    const sampler = MetricsSampler.start(42, {
      everyMs: 3_600_000,
      maxQuietMs: 4 * 3_600_000,
      procDir,
      emit: () => {},
    });
    try {
      sampler.sample(); // the first values are emitted: not quiet
      assert.equal(sampler.nextWaitMs, 3_600_000);
      const waits = [1, 2, 3].map(() => (sampler.sample(), sampler.nextWaitMs / 3_600_000));
      assert.deepEqual(waits, [2, 4, 4]);
      await _writeProcess(procDir, 42, { ticks: 101, threads: 2, rssKb: 1024, pssKb: 512, fds: 3 });
      sampler.sample(); // one tick of CPU: back to every
      assert.equal(sampler.nextWaitMs, 3_600_000);
      sampler.sample(); // cpu_pct back to 0 is a change, emitted
      assert.equal(sampler.nextWaitMs, 3_600_000);
      sampler.sample();
      assert.equal(sampler.nextWaitMs, 2 * 3_600_000, "quiet again");
      await _writeProcess(procDir, 42, { ticks: 101, threads: 2, rssKb: 4096, pssKb: 512, fds: 3 });
      sampler.sample(); // the RSS moved (no CPU): back to every
      assert.equal(sampler.nextWaitMs, 3_600_000);
    } finally {
      sampler.stop();
    }
    // With only onSample (an RSS limit), the default: every sample on time.
    const checked = MetricsSampler.start(42, { everyMs: 3_600_000, procDir, onSample: () => {} });
    try {
      for (let i = 0; i < 3; i++) checked.sample();
      assert.equal(checked.nextWaitMs, 3_600_000);
    } finally {
      checked.stop();
    }
  } finally {
    await Deno.remove(procDir, { recursive: true });
  }
});
