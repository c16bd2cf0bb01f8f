/**
 * Nothing hung, nothing lost silently, nothing leaked — with real parts: a stuck reader of
 * wrapp's stdout must not stall the service or its sinks; processes of the service's group
 * still running after the drain are ended and reported.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  readLatestTrace,
  spawnWrapp,
  tempDir,
  writeConfig,
  writeScript,
} from "./_helpers.ts";
import { processGroupMembers } from "../lib/features/run/process_group.ts";
import { startRedis } from "./_redis.ts";

/** Whether process `pid` still exists (and is not a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

Deno.test("a stdout nobody reads stalls neither the service nor its trace and Redis stream; the dropped echo is counted and reported", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "chatty.sh",
    'for ((i = 1; i <= 20000; i++)); do echo "line $i of a service that talks a lot"; done',
  );
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: [
      "[output]",
      "echo = true",
      "[redis]",
      `port = ${redis.port}`,
      `spool_dir = ${JSON.stringify(`${dir.path}/spool`)}`,
      'layout = "wrapp"',
      "max_len = 100000",
    ].join("\n"),
  });
  // With [redis] the local trace is off unless asked for.
  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, text.replace("[local]\n", "[local]\nenabled = true\n"));
  const started = performance.now();
  // stdout is a pipe wrapp can fill (64 KiB) but that nobody reads: `wrapp run | sleep 60`.
  const wrapp = spawnWrapp(["run", config]);
  const stderrText = new Response(wrapp.stderr).text();
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    wrapp.kill("SIGKILL");
  }, 60_000);
  const status = await wrapp.status;
  clearTimeout(guard);
  const seconds = (performance.now() - started) / 1000;
  const stderr = await stderrText;
  await wrapp.stdout.cancel();
  assert.equal(hung, false, `wrapp hung behind its unread stdout; stderr:\n${stderr}`);
  assert.equal(status.code, 0, stderr);

  const events = await readLatestTrace(`${dir.path}/traces`);
  const lines = logTexts(events);
  assert.equal(lines.length, 20_000, "every line reaches the trace");
  assert.equal(lines[19_999], "line 20000 of a service that talks a lot");
  const logs = await redis.client(1);
  assert.equal(await logs.xlen("logs:app:svc:info"), 20_000, "every line reaches Redis");
  const warnings = events.filter((e) => e.cat === "warning").map((e) => String(e.name));
  assert.ok(
    warnings.some((w) => /stdout is not read fast enough/.test(w)),
    `a warning when the echo starts dropping: ${warnings}`,
  );
  const report = events.find((e) =>
    e.cat === "warning" && e.args?.echo === "stdout" && e.args?.dropped_bytes
  );
  assert.ok(report, `a warning with the count of dropped echo: ${warnings}`);
  const droppedLines = Number(report.args!.dropped_lines);
  // At most 64 KiB of pipe plus 1 MiB of queue was echoed; the rest (of ~780 KB) or more is dropped.
  assert.ok(droppedLines > 0 && droppedLines <= 20_000, `dropped lines ${droppedLines}`);
  assert.match(stderr, /the echo to wrapp's stdout dropped \d+ bytes \(about \d+ lines\)/);
  console.log(
    `20000 lines with an unread stdout: ${
      seconds.toFixed(1)
    } s, ${droppedLines} echoed lines dropped`,
  );
});

Deno.test("processes of the group still running after the drain get SIGTERM, then SIGKILL; their output until then is kept", async () => {
  await using dir = await tempDir();
  const pids = `${dir.path}/pids`;
  // One grandchild that stops on SIGTERM, one that ignores it; both print after the drain
  // would have ended, and would run for 5 minutes.
  const script = await writeScript(
    dir.path,
    "leaves.sh",
    [
      `(echo "polite $BASHPID" ; echo $BASHPID >> ${pids}; sleep 300) &`,
      `(trap '' TERM; echo "stubborn $BASHPID"; echo $BASHPID >> ${pids}; while true; do sleep 0.2; done) &`,
      "sleep 0.3",
      'echo "main exits"',
    ].join("\n"),
  );
  const config = await writeConfig(dir.path, { executable: script });
  // stop_grace bounds the wait between SIGTERM and SIGKILL.
  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, text.replace("[app]\n", '[app]\nstop_grace = "1s"\n'));
  const started = performance.now();
  const wrapp = spawnWrapp(["run", config]);
  const output = await wrapp.output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);

  const grandchildren = (await Deno.readTextFile(pids)).trim().split("\n").map(Number);
  assert.equal(grandchildren.length, 2);
  for (const pid of grandchildren) {
    assert.equal(await alive(pid), false, `pid ${pid} was left running`);
  }

  const events = await readLatestTrace(`${dir.path}/traces`);
  const lines = logTexts(events);
  assert.ok(lines.includes("main exits"), `${lines}`);
  assert.ok(lines.some((l) => l.startsWith("polite ")), `${lines}`);
  assert.ok(lines.some((l) => l.startsWith("stubborn ")), `${lines}`);
  const ended = events.filter((e) => e.cat === "warning" && e.args?.drain_ms !== undefined);
  assert.equal(ended.length, 1, JSON.stringify(events.filter((e) => e.cat === "warning")));
  assert.equal(ended[0].args?.signal, "SIGKILL");
  assert.match(
    String(ended[0].name),
    /\d+ processes of its group .* still ran 2000 ms later: sent SIGTERM to the group, then SIGKILL after 1000 ms/,
  );
  // The drain (2 s) and the grace (1 s), not the grandchildren's 5 minutes.
  assert.ok(seconds < 30, `took ${seconds} s`);
});

Deno.test("a group that ends on SIGTERM after the drain is reported with SIGTERM only", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "daemonish.sh",
    // Output elsewhere: the pipes close at once, the process stays in the group.
    "sleep 300 > /dev/null 2>&1 &\necho started",
  );
  const config = await writeConfig(dir.path, { executable: script });
  const wrapp = spawnWrapp(["run", config]);
  const output = await wrapp.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const events = await readLatestTrace(`${dir.path}/traces`);
  const ended = events.filter((e) => e.cat === "warning" && e.args?.drain_ms !== undefined);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].args?.signal, "SIGTERM");
  const pid = Number(ended[0].args?.pid);
  assert.deepEqual(await processGroupMembers(pid), []);
});
