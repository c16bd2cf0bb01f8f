/**
 * A full disk under the spool, with real parts: the spool folder on a 2 MiB tmpfs this
 * test mounts (root only), Redis killed and started again on the same port. What a user
 * checks afterwards: with `policy = "block"` every line is in Redis, in order; with
 * `drop_oldest` the newest lines are, and the drop count in the status stream is what is
 * missing; no pile of empty segment files; and a disk full before wrapp starts does not
 * keep the service from starting.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { runWrapp, spawnWrapp, tempDir, waitFor, writeScript } from "./_helpers.ts";
import { freePort, startRedis } from "./_redis.ts";

const LINES = 40_000;
// About 100 bytes of text, some 250 in the spool with its JSON envelope: ~10 MB in all, 5x the disk.
const PAD = "x".repeat(90);

/** Mount a `size` tmpfs on a new folder in `dir`; unmounted (lazily, if busy) on dispose. */
async function tmpfs(dir: string, size: string): Promise<{ path: string } & AsyncDisposable> {
  const path = `${dir}/disk`;
  await Deno.mkdir(path);
  await _run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path]);
  return {
    path,
    [Symbol.asyncDispose]: () => _run("umount", ["-l", path]),
  };
}

async function _run(program: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(program, { args, stderr: "piped" }).output();
  if (!output.success) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** wrapp's stderr as it comes (its notices), and its exit code. */
function watch(wrapp: Deno.ChildProcess): { text: () => string; code: Promise<number> } {
  let text = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of wrapp.stderr) text += decoder.decode(chunk, { stream: true });
  })();
  const code = (async () => {
    await wrapp.stdout.cancel();
    const status = await wrapp.status;
    await reading;
    return status.code;
  })();
  return { text: () => text, code };
}

async function config(
  dir: string,
  options: { script: string; port: number; spoolDir: string; policy: string },
): Promise<string> {
  const path = `${dir}/svc.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[app]",
      `executable = ${JSON.stringify(options.script)}`,
      'stream_name = "svc"',
      "[output]",
      "echo = false",
      // Lines and status only: resource samples would take seq numbers and drops of their own.
      "[metrics]",
      "enabled = false",
      "[redis]",
      `port = ${options.port}`,
      `spool_dir = ${JSON.stringify(options.spoolDir)}`,
      `policy = ${JSON.stringify(options.policy)}`,
      `max_len = ${LINES * 2}`,
      'layout = "wrapp"',
      "",
    ].join("\n"),
  );
  return path;
}

/** The service: LINES numbered lines, then (with `waitFor`) it waits for that file before it ends. */
function service(dir: string, waitForFile?: string): Promise<string> {
  return writeScript(
    dir,
    "svc.sh",
    `for ((i = 0; i < ${LINES}; i++)); do echo "P$i ${PAD}"; done
touch ${dir}/printed
${waitForFile ? `while [ ! -e ${waitForFile} ]; do sleep 0.05; done` : ""}`,
  );
}

async function entries(client: Redis, key: string): Promise<Record<string, string>[]> {
  const raw = await client.xrange(key, "-", "+");
  return raw.map(([, fields]) => {
    const entry: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
    return entry;
  });
}

/** The numbers of the service's lines in :info, in stream order. */
async function lineNumbers(client: Redis): Promise<number[]> {
  return (await entries(client, "logs:app:svc:info")).map((entry) =>
    Number(/^P(\d+) /.exec(entry.message)?.[1] ?? NaN)
  );
}

/** The lines wrapp (pid `wrappPid`) has read from its service so far, as `wrapp ps` says. */
async function linesRead(wrappPid: number): Promise<number | undefined> {
  const { code, stdout, stderr } = await runWrapp(["ps", "--json", "--sample", "0"]);
  assert.equal(code, 0, stderr);
  const rows = JSON.parse(stdout) as { wrapp_pid: number; lines: number | null }[];
  return rows.find((row) => row.wrapp_pid === wrappPid)?.lines ?? undefined;
}

/** Segment files in the spool and how many of them are empty. */
function segments(spoolDir: string): { files: number; empty: number } {
  let files = 0;
  let empty = 0;
  for (const entry of Deno.readDirSync(spoolDir)) {
    if (!entry.name.endsWith(".jsonl")) continue;
    files++;
    if (Deno.statSync(`${spoolDir}/${entry.name}`).size === 0) empty++;
  }
  return { files, empty };
}

Deno.test("disk full, policy block: the service is held back, no line is lost, no empty segments pile up", async () => {
  await using dir = await tempDir();
  await using disk = await tmpfs(dir.path, "2m");
  const port = freePort(); // Redis is down from the start
  const spoolDir = `${disk.path}/spool`;
  const script = await service(dir.path);
  const path = await config(dir.path, { script, port, spoolDir, policy: "block" });
  const wrapp = spawnWrapp(["run", path]);
  const stderr = watch(wrapp);
  try {
    await waitFor(
      () => /no space left on device: the service's output is held back/.test(stderr.text()),
      60_000,
      "the disk-full notice",
    );
    // Held back for a while: the service cannot finish, and failed writes leave no files.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(await Deno.stat(`${dir.path}/printed`).then(() => true, () => false), false);
    const held = segments(spoolDir);
    assert.equal(held.empty, 0, `empty segment files: ${JSON.stringify(held)}`);
    assert.ok(held.files <= 20, `${held.files} segment files`);

    await using redis = await startRedis({ port });
    const code = await Promise.race([
      stderr.code,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`wrapp did not end:\n${stderr.text()}`)), 120_000)
      ),
    ]);
    assert.equal(code, 0, stderr.text());
    const logs = await redis.client(1);
    const numbers = await lineNumbers(logs);
    assert.equal(numbers.length, LINES, `${LINES - numbers.length} lines missing`);
    assert.ok(numbers.every((n, i) => n === i), "lines out of order");
    const status = await entries(logs, "logs:app:svc:status");
    assert.ok(
      status.some((e) =>
        /no space left on device: the service's output is held back/.test(e.message)
      ),
      "the disk-full status entry",
    );
    assert.ok(!status.some((e) => Number(e.dropped) > 0), "a drop was reported");
    assert.equal(segments(spoolDir).files, 0);
  } finally {
    try {
      wrapp.kill("SIGKILL");
    } catch { /* ended */ }
    await stderr.code;
  }
});

Deno.test("disk full, policy drop_oldest: the newest lines are kept, and the drop count reaching Redis is what is missing", async () => {
  await using dir = await tempDir();
  await using disk = await tmpfs(dir.path, "2m");
  const port = freePort();
  const spoolDir = `${disk.path}/spool`;
  const go = `${dir.path}/go`;
  const script = await service(dir.path, go);
  const path = await config(dir.path, { script, port, spoolDir, policy: "drop_oldest" });
  const wrapp = spawnWrapp(["run", path]);
  const stderr = watch(wrapp);
  try {
    await waitFor(
      () => Deno.stat(`${dir.path}/printed`).then(() => true, () => false),
      60_000,
      "the service to print its lines",
    );
    // wrapp reads on without holding the service back: Redis starts once it has every line
    // (a pipe's worth may still be unread when the service is done), so that every drop
    // happens while Redis is down, never beside the delivery of the oldest segment.
    await waitFor(
      async () => (await linesRead(wrapp.pid)) === LINES,
      60_000,
      "wrapp to read every line",
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // the router's last batch
    const full = segments(spoolDir);
    assert.equal(full.empty, 0, `empty segment files: ${JSON.stringify(full)}`);
    assert.ok(full.files <= 40, `${full.files} segment files`);

    await using redis = await startRedis({ port });
    const logs = await redis.client(1);
    await waitFor(
      async () => (await lineNumbers(logs)).at(-1) === LINES - 1,
      60_000,
      "the newest line in Redis",
    );
    await Deno.writeTextFile(go, "");
    assert.equal(await stderr.code, 0, stderr.text());

    const numbers = await lineNumbers(logs);
    assert.ok(numbers.every((n, i) => i === 0 || n > numbers[i - 1]), "lines out of order");
    // What is kept is the newest: one run up to the last line.
    assert.equal(numbers.at(-1), LINES - 1);
    assert.equal(numbers.length, LINES - numbers[0], "a gap among the kept lines");
    const missingLines = numbers[0];
    assert.ok(missingLines > LINES / 2, `only ${missingLines} lines dropped from a 2 MiB disk`);

    const status = await entries(logs, "logs:app:svc:status");
    const reports = status.filter((e) => e.dropped_total !== undefined);
    assert.ok(reports.length > 0, "no drop report reached Redis");
    const reported = reports.reduce((sum, e) => sum + Number(e.dropped), 0);
    // Besides lines, the oldest events include the run's start and the outage notice.
    const missingStatus = ["start"].filter((phase) => !status.some((e) => e.phase === phase))
      .length +
      (status.some((e) => /is unreachable/.test(e.message)) ? 0 : 1);
    assert.equal(reported, missingLines + missingStatus, JSON.stringify(reports, null, 1));
    assert.equal(Number(reports.at(-1)!.dropped_total), reported);
  } finally {
    try {
      wrapp.kill("SIGKILL");
    } catch { /* ended */ }
    await stderr.code;
  }
});

Deno.test("disk full before wrapp starts: the service starts, wrapp says it keeps events in memory only", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  await using disk = await tmpfs(dir.path, "2m");
  const spoolDir = `${disk.path}/spool`;
  await Deno.mkdir(spoolDir);
  // Fill the disk to the last byte.
  const filler = await Deno.open(`${disk.path}/filler`, { write: true, create: true });
  try {
    for (;;) await filler.write(new Uint8Array(64 * 1024));
  } catch (error) {
    assert.equal((error as { code?: string }).code, "ENOSPC", String(error));
  } finally {
    filler.close();
  }
  const script = await writeScript(dir.path, "svc.sh", "echo one\necho two\necho three");
  const path = await config(dir.path, {
    script,
    port: redis.port,
    spoolDir,
    policy: "drop_oldest",
  });
  const wrapp = spawnWrapp(["run", path]);
  const stderr = watch(wrapp);
  assert.equal(await stderr.code, 0, stderr.text());
  assert.match(
    stderr.text(),
    /wrapp: Cannot claim spool ".+\/spool": no space left on device: events wait in memory only \(up to 100000 events, then the oldest are dropped\); what waits is lost if wrapp is killed\n/,
  );
  const logs = await redis.client(1);
  assert.deepEqual(
    (await entries(logs, "logs:app:svc:info")).map((e) => e.message),
    ["one", "two", "three"],
  );
  const status = await entries(logs, "logs:app:svc:status");
  const notice = status.find((e) => /^Cannot claim spool/.test(e.message));
  assert.ok(notice, JSON.stringify(status, null, 1));
  assert.equal(notice.spool, "none");
  assert.deepEqual([...Deno.readDirSync(spoolDir)], [], "the spool folder should stay empty");
});
