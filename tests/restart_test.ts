/**
 * Restart policies with real processes: backoff timing, giving up, stopping during a backoff.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  type TraceEvent,
  waitFor,
  writeConfig,
  writeScript,
} from "./_helpers.ts";

const restarts = (events: TraceEvent[]) =>
  events.filter((e) => e.ph === "i" && e.cat === "restart");

Deno.test("on-failure restarts with doubling backoff until the service succeeds", async () => {
  await using dir = await tempDir();
  // Fails twice (exit 3), then succeeds: the attempt count lives in a file.
  const script = await writeScript(
    dir.path,
    "flaky.sh",
    `n=$(cat ${dir.path}/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${dir.path}/count
echo "attempt $n at $(date +%s%3N)"
[ $n -ge 3 ] && exit 0 || exit 3`,
  );
  const config = await writeConfig(dir.path, {
    executable: script,
    extra:
      `[output]\necho = false\n\n[restart]\npolicy = "on-failure"\ndelay = "300ms"\nmax_delay = "10s"`,
  });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  const events = await readLatestTrace(`${dir.path}/traces`);
  const attempts = logTexts(events).map((line) => Number(line.split(" at ")[1]));
  assert.equal(attempts.length, 3);
  const gaps = [attempts[1] - attempts[0], attempts[2] - attempts[1]];
  assert.ok(gaps[0] >= 300, `first restart after ${gaps[0]} ms, want ≥ 300`);
  assert.ok(gaps[1] >= 600, `second restart after ${gaps[1]} ms, want ≥ 600`);
  const announced = restarts(events).map((e) => [e.args?.attempt, e.args?.delay_ms]);
  assert.deepEqual(announced, [[1, 300], [2, 600]]);
  // The delay counts from the exit, whatever else wrapp does in between (reading the last
  // output, a crash report, a loaded machine): each restart is scheduled at the exit time
  // (its run's start plus its duration) plus the configured delay, and the next run does
  // not start before that. Measured on wrapp's own clock, so it holds on a busy machine.
  const starts = events.filter((e) => e.ph === "B").map((e) => e.ts! / 1000);
  const durations = events.filter((e) => e.ph === "E").map((e) => Number(e.args?.duration_ms));
  restarts(events).forEach((restart, i) => {
    const exitedAt = starts[i] + durations[i];
    const due = Number(restart.args?.restart_at_ms);
    const delay = Number(restart.args?.delay_ms);
    assert.ok(
      Math.abs(due - exitedAt - delay) <= 2,
      `restart ${i + 1} due ${due - exitedAt} ms after the exit, want ${delay}`,
    );
    assert.ok(starts[i + 1] >= due - 1, `run ${i + 2} started ${starts[i + 1] - due} ms early`);
  });
  assert.match(
    String(restarts(events)[0].args?.reason),
    /ended with exit code 3 after .*"on-failure"/,
  );
  // Each run is its own slice on the run track.
  assert.equal(events.filter((e) => e.ph === "B").length, 3);
  assert.equal(events.filter((e) => e.ph === "E").length, 3);
});

Deno.test("wrapp gives up after max_restarts within the window and exits non-zero", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "broken.sh", "echo broken; exit 7");
  const config = await writeConfig(dir.path, {
    executable: script,
    extra:
      `[output]\necho = false\n\n[restart]\npolicy = "always"\ndelay = "50ms"\nmax_restarts = 2\nwindow = "1m"`,
  });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 7);
  assert.match(
    result.stderr,
    /wrapp: svc ended with exit code 7; giving up after 2 restarts within 60 s/,
  );
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.deepEqual(logTexts(events), ["broken", "broken", "broken"]);
  assert.equal(restarts(events).length, 2);
});

Deno.test("policy always with a service that exits 0 still gives up with a non-zero code", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, {
    executable: "true",
    extra: `[output]\necho = false\n\n[restart]\npolicy = "always"\ndelay = 0\nmax_restarts = 1`,
  });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 1);
});

Deno.test("SIGTERM during a restart backoff stops wrapp at once", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "fail.sh", "echo failing; exit 4");
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: `[output]\necho = false\n\n[restart]\npolicy = "on-failure"\ndelay = "30s"`,
  });
  const wrapp = spawnWrapp(["run", config]);
  await waitFor(
    async () => {
      try {
        return (await Deno.readTextFile(`${dir.path}/traces/latest/events.jsonl`)).includes(
          '"cat":"restart"',
        );
      } catch {
        return false;
      }
    },
    10_000,
    "the restart announcement",
  );
  const sentAt = Date.now();
  wrapp.kill("SIGTERM");
  const output = await wrapp.output();
  assert.ok(Date.now() - sentAt < 3000, "stopped without waiting out the 30 s backoff");
  assert.equal(output.code, 4);
});
