/**
 * `wrapp run` as a user runs it: a real child process, real signals, the real trace on disk.
 */

import assert from "node:assert/strict";
import {
  logTexts,
  processesMentioning,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  waitFor,
  writeConfig,
  writeScript,
} from "./_helpers.ts";
import { processState } from "../lib/pipeline/sources/spawn_stopped.ts";

Deno.test("wrapp run exits with the child's exit code and records start and exit", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", "echo hello; echo oops >&2; exit 3");
  const result = await runWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  assert.equal(result.code, 3, result.stderr);
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.deepEqual(logTexts(events, "stdout"), ["hello"]);
  assert.deepEqual(logTexts(events, "stderr"), ["oops"]);
  const begin = events.find((e) => e.ph === "B");
  const end = events.find((e) => e.ph === "E");
  assert.ok(begin && end, "the run is a slice");
  assert.equal(begin.args?.version, "0.1.0");
  assert.match(String(begin.args?.command), /svc\.sh$/);
  assert.equal(end.args?.exit_code, 3);
  assert.equal(typeof end.args?.duration_ms, "number");
  assert.match(result.stderr, /wrapp: trace of "svc" run \d{8}-\d{6}-[0-9a-f]{6} in /);
});

Deno.test("wrapp run exits with 128+signal when a signal kills the child", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", "echo about to die; kill -SEGV $$");
  const result = await runWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  assert.equal(result.code, 139, result.stderr);
  const end = (await readLatestTrace(`${dir.path}/traces`)).find((e) => e.ph === "E");
  assert.equal(end?.args?.signal, "SIGSEGV");
  assert.equal(end?.args?.shell_exit_code, 139);
});

Deno.test("wrapp run forwards SIGTERM to a script that traps it and exits with its code", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `trap 'echo "got TERM, cleaning up"; exit 0' TERM
echo ready
while true; do sleep 0.05; done`,
  );
  const config = await writeConfig(dir.path, { executable: script, extra: "" });
  const wrapp = spawnWrapp(["run", config]);
  const reader = wrapp.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready\n")) seen += (await reader.read()).value ?? "";
  wrapp.kill("SIGTERM");
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value;
  }
  const status = await wrapp.status;
  await wrapp.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(seen, /got TERM, cleaning up/);
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.deepEqual(logTexts(events), ["ready", "got TERM, cleaning up"]);
  assert.ok(events.some((e) =>
    e.name === "forwarded SIGTERM to svc (pid " + e.args?.pid + ")" ||
    String(e.name).startsWith("forwarded SIGTERM")
  ));
});

Deno.test("wrapp run sends SIGKILL after the grace period when the child ignores SIGTERM", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `trap 'echo ignoring TERM' TERM
echo ready
while true; do sleep 0.05; done`,
  );
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: `[output]\necho = false`,
  });
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace("[app]\n", '[app]\nstop_grace = "700ms"\n'),
  );
  const wrapp = spawnWrapp(["run", config]);
  await waitFor(
    async () => {
      try {
        return (await Deno.readTextFile(`${dir.path}/traces/latest/events.jsonl`)).includes(
          '"ready"',
        );
      } catch {
        return false;
      }
    },
    10_000,
    "the child to print ready",
  );
  const sentAt = Date.now();
  wrapp.kill("SIGTERM");
  const output = await wrapp.output();
  const elapsed = Date.now() - sentAt;
  assert.equal(output.code, 137, new TextDecoder().decode(output.stderr));
  assert.ok(elapsed >= 650, `killed after ${elapsed} ms, before the 700 ms grace period`);
  assert.ok(elapsed < 5000, `killed after ${elapsed} ms`);
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.ok(logTexts(events).includes("ignoring TERM"));
  assert.ok(
    events.some((e) => String(e.name).includes("did not stop within 700 ms; sent SIGKILL")),
  );
});

Deno.test("wrapp run forwards SIGUSR1 and SIGHUP without stopping the child", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `trap 'echo got USR1' USR1
trap 'echo got HUP; exit 5' HUP
echo ready
while true; do sleep 0.05; done`,
  );
  const wrapp = spawnWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  const jsonl = `${dir.path}/traces/latest/events.jsonl`;
  const has = (text: string) => async () => {
    try {
      return (await Deno.readTextFile(jsonl)).includes(text);
    } catch {
      return false;
    }
  };
  await waitFor(has('"ready"'), 10_000, "ready");
  wrapp.kill("SIGUSR1");
  await waitFor(has('"got USR1"'), 10_000, "got USR1");
  wrapp.kill("SIGHUP");
  const output = await wrapp.output();
  assert.equal(output.code, 5);
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), [
    "ready",
    "got USR1",
    "got HUP",
  ]);
});

Deno.test("wrapp run passes stdin through to the child", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, { executable: "cat" });
  const result = await runWrapp(["run", config], { stdin: "first\nsecond\n" });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), ["first", "second"]);
});

Deno.test("wrapp run echoes the child's output byte for byte unless echo is off", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `printf 'a\\nb \\xff\\nno newline'; echo err >&2`,
  );
  const on = await runWrapp([
    "run",
    await writeConfig(dir.path, { executable: script, extra: "" }),
  ]);
  assert.equal(on.stdout, "a\nb \uFFFD\nno newline");
  assert.match(on.stderr, /^err$/m);
  const off = await runWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  assert.equal(off.stdout, "");
  assert.doesNotMatch(off.stderr, /^err$/m);
  // The trace keeps the invalid byte visible and the unterminated last line.
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), [
    "a",
    "b \\xff",
    "no newline",
  ]);
});

Deno.test("wrapp run frames multi-line blocks and turns markers into counters", async () => {
  await using dir = await tempDir();
  const script = await writeScript(
    dir.path,
    "svc.sh",
    `echo 'before'
echo 'Traceback >>|'
echo '  line one'
echo '  line two |<<'
echo 'job done {{jobs}}'
echo 'job done {{jobs}} temp {{temp:21.5}}'
echo 'malformed {{}} {{a:}} {{:1}}'
echo 'open block >>|'
echo 'never closed'`,
  );
  const result = await runWrapp(["run", await writeConfig(dir.path, { executable: script })]);
  assert.equal(result.code, 0, result.stderr);
  const events = await readLatestTrace(`${dir.path}/traces`);
  assert.deepEqual(
    logTexts(events),
    [
      "before",
      "Traceback \n  line one\n  line two ",
      "job done {{jobs}}",
      "job done {{jobs}} temp {{temp:21.5}}",
      "malformed {{}} {{a:}} {{:1}}",
      "open block \nnever closed",
    ].map((t) => t),
  );
  const block = events.find((e) => e.cat === "stdout" && e.args?.lines === 3);
  assert.ok(block, "the block is one event of 3 lines");
  const unterminated = events.find((e) => e.args?.unterminated === "exit");
  assert.ok(unterminated, "the unterminated block is flushed at exit");
  const counters = events.filter((e) => e.ph === "C").map((e) => [e.name, e.args?.value]);
  assert.deepEqual(counters, [["jobs", 1], ["jobs", 2], ["temp", 21.5]]);
});

Deno.test("wrapp run splits and marks lines longer than max_line_bytes", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", `head -c 1000 /dev/zero | tr '\\0' x; echo`);
  const config = await writeConfig(dir.path, {
    executable: script,
    extra: "[output]\necho = false\nmax_line_bytes = 256",
  });
  assert.equal((await runWrapp(["run", config])).code, 0);
  const parts = (await readLatestTrace(`${dir.path}/traces`)).filter((e) => e.cat === "stdout");
  assert.deepEqual(parts.map((e) => String(e.args?.text).length), [256, 256, 256, 232]);
  assert.deepEqual(parts.map((e) => [e.args?.part, e.args?.last]), [
    [1, false],
    [2, false],
    [3, false],
    [4, true],
  ]);
});

Deno.test("wrapp run keeps every one of 1,000,000 lines, in order", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, { executable: "seq", args: ["1", "1000000"] });
  const result = await runWrapp(["run", config]);
  assert.equal(result.code, 0, result.stderr);
  const texts = logTexts(await readLatestTrace(`${dir.path}/traces`));
  assert.equal(texts.length, 1_000_000);
  for (let i = 0; i < texts.length; i++) {
    if (texts[i] !== String(i + 1)) assert.fail(`line ${i + 1} is "${texts[i]}"`);
  }
});

Deno.test("wrapp run --debug prints timestamped debug lines about config, command, pid and exit", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, { executable: "true" });
  const result = await runWrapp(["run", config, "--debug"]);
  assert.equal(result.code, 0);
  const debugLines = result.stderr.split("\n").filter((l) => l.startsWith("[DEBUG "));
  for (const line of debugLines) assert.match(line, /^\[DEBUG \d{2}:\d{2}:\d{2}\.\d{3}\] \S/);
  const all = debugLines.join("\n");
  assert.match(all, /\] config /);
  assert.match(all, /\] command: \[".*\/true"\]/);
  assert.match(all, /\] started pid \d+/);
  assert.match(all, /\] pid \d+ ended with exit code 0/);
  const viaEnv = await runWrapp(["run", config], { env: { WRAPP_DEBUG: "1" } });
  assert.match(viaEnv.stderr, /^\[DEBUG /m);
  const quiet = await runWrapp(["run", config]);
  assert.doesNotMatch(quiet.stderr, /\[DEBUG /);
});

Deno.test("wrapp svc.toml is short for wrapp run svc.toml", async () => {
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", "echo short; exit 4");
  const result = await runWrapp([await writeConfig(dir.path, { executable: script })]);
  assert.equal(result.code, 4);
  assert.deepEqual(logTexts(await readLatestTrace(`${dir.path}/traces`)), ["short"]);
});

Deno.test("wrapp run stopped by SIGTERM while its sinks open never starts the service and leaves no process", async () => {
  await using dir = await tempDir();
  // A Redis that takes the connection and never answers: wrapp waits in its handshake.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  const marker = `${dir.path}/the-service-ran`;
  const config = await writeConfig(dir.path, {
    executable: "/bin/sh",
    args: ["-c", `touch ${marker}`],
    extra: `[redis]\nhost = "127.0.0.1"\nport = ${listener.addr.port}\nspool_dir = ${
      JSON.stringify(`${dir.path}/spool`)
    }\n`,
  });
  const wrapp = spawnWrapp(["run", config], { env: { WRAPP_DEBUG: "1" } });
  await waitFor(() => conns.length > 0, 20_000, "wrapp never connected to the silent Redis");
  if (Deno.uid() === 0) {
    // As root the crash watcher holds every start: the first one is spawned, held before
    // its exec, while the sinks open.
    const heldState = async () => {
      const [held] = await processesMentioning(marker);
      return held && await processState(held.pid);
    };
    await waitFor(async () => await heldState() === "T", 10_000, "the first start, held");
  }
  const stderr = wrapp.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let debugLines = "";
  wrapp.kill("SIGTERM");
  while (!debugLines.includes("received SIGTERM")) {
    const { done, value } = await stderr.read();
    assert.ok(!done, `wrapp ended before it took the SIGTERM:\n${debugLines}`);
    debugLines += value;
  }
  // Then the handshake fails at once: the sink spools, and wrapp goes on to stop.
  for (const conn of conns.splice(0)) conn.close();
  listener.close();
  await accepting.catch(() => {});
  while (true) {
    const { done, value } = await stderr.read();
    if (done) break;
    debugLines += value;
  }
  const [status] = await Promise.all([wrapp.status, wrapp.stdout.cancel()]);
  assert.equal(status.code, 0, debugLines);
  assert.equal(await Deno.stat(marker).then(() => true, () => false), false, "the service ran");
  assert.deepEqual(await processesMentioning(marker), [], "a held start was left behind");
});
