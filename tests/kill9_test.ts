/**
 * `kill -9` of wrapp while Redis is up but slower than the service, against a real
 * redis-server: what only the memory queue held dies with wrapp, and the next wrapp says
 * exactly which events (by `seq`) and how many — no gap is silent.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { runWrapp, spawnWrapp, tempDir, waitFor, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

const HALF = 60_000;

/** `held a-b,c-d` and `accepted N` of the ledger file, or undefined before it exists. */
async function readLedger(
  path: string,
): Promise<{ accepted: number; held: number } | undefined> {
  const text = await Deno.readTextFile(path).catch(() => undefined);
  const accepted = /^accepted (\d+)$/m.exec(text ?? "");
  const held = /^held (\S+)/m.exec(text ?? "");
  if (!accepted || !held) return undefined;
  let count = 0;
  if (held[1] !== "-") {
    for (const range of held[1].split(",")) {
      const [first, last] = range.split("-").map(Number);
      count += last - first + 1;
    }
  }
  return { accepted: Number(accepted[1]), held: count };
}

/** Every entry of stream `key` as `[message, seq]`, read in pages. */
async function entries(client: Redis, key: string): Promise<[string, number][]> {
  const out: [string, number][] = [];
  let cursor = "-";
  for (;;) {
    const page = await client.xrange(key, cursor, "+", "COUNT", 50_000);
    for (const [, fields] of page) {
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      out.push([field("message"), Number(field("seq"))]);
    }
    if (page.length < 50_000) return out;
    cursor = `(${page.at(-1)![0]}`;
  }
}

Deno.test("kill -9 of wrapp with a slow Redis: the next wrapp reports exactly the lost events and their seq range", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const d = dir.path;
  // First run: half the lines, then (once Redis is slow) the other half, unpaced; then it
  // idles. The second run (after the kill) says one line and exits.
  const script = await writeScript(
    d,
    "svc.sh",
    [
      `if [ -e "${d}/printed" ]; then echo second run; exit 0; fi`,
      `echo $$ > "${d}/svc.pid"`,
      `seq 1 ${HALF}`,
      `while [ ! -e "${d}/go" ]; do sleep 0.02; done`,
      `seq ${HALF + 1} ${2 * HALF}`,
      `touch "${d}/printed"`,
      "exec sleep 120",
    ].join("\n"),
  );
  const config = `${d}/svc.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[app]",
      `executable = ${JSON.stringify(script)}`,
      'stream_name = "svc"',
      "[output]",
      "echo = false",
      // Lines and status only: resource samples would take seq numbers and drops of their own.
      "[metrics]",
      "enabled = false",
      "[redis]",
      `port = ${redis.port}`,
      `spool_dir = ${JSON.stringify(`${d}/spool`)}`,
      "max_len = 2000000",
      "memory_queue = 20000",
      "",
    ].join("\n"),
  );
  const ledgerPath = `${d}/spool/ledger`;
  const logs = await redis.client(1);
  const admin = await redis.client(0);
  const first = spawnWrapp(["run", config]);
  let servicePid = 0;
  try {
    await waitFor(
      async () => (await logs.xlen("logs:app:svc:info")) > HALF,
      60_000,
      "the first half in Redis",
    );
    // Redis falls behind: writes wait (not an outage: connections and PING still work).
    await admin.call("CLIENT", "PAUSE", "60000", "WRITE");
    await Deno.writeTextFile(`${d}/go`, "");
    await waitFor(
      async () => {
        const ledger = await readLedger(ledgerPath);
        // the start event and every line accepted
        return ledger !== undefined && ledger.accepted >= 2 * HALF + 1 &&
          await Deno.stat(`${d}/printed`).then(() => true, () => false);
      },
      60_000,
      "every line accepted by the sink",
    );
    const before = await readLedger(ledgerPath);
    assert.ok(before!.held > 0, `nothing held in memory at the kill: ${JSON.stringify(before)}`);
    servicePid = Number(await Deno.readTextFile(`${d}/svc.pid`));
    first.kill("SIGKILL");
    await first.output();
  } finally {
    try {
      first.kill("SIGKILL");
    } catch { /* already gone */ }
    await first.status;
    if (servicePid > 0) {
      try {
        Deno.kill(servicePid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await admin.call("CLIENT", "UNPAUSE");
  }

  const second = await runWrapp(["run", config]);
  assert.equal(second.code, 0, second.stderr);
  const report =
    /The previous wrapp of "svc" ended before (\d+) events reached Redis or the spool: they are lost \(seq ([\d,-]+)\)(?:; of these, the \d+ of seq (\d+)-(\d+) were being sent)?/
      .exec(second.stderr);
  assert.ok(report, second.stderr);
  const reported = Number(report[1]);
  const lost = report[2].split(",").map((range) => range.split("-").map(Number));
  const isLost = (seq: number) => lost.some(([a, b]) => seq >= a && seq <= b);
  // The batch in flight at the kill: Redis may have written it after all (at-least-once).
  const [sendFirst, sendLast] = [Number(report[3] ?? 0), Number(report[4] ?? -1)];
  const maybeSent = (seq: number) => seq >= sendFirst && seq <= sendLast;
  assert.equal(
    lost.reduce((sum, [a, b]) => sum + b - a + 1, 0),
    reported,
    "the count is the size of the ranges",
  );

  const info = await entries(logs, "logs:app:svc:info");
  const status = await entries(logs, "logs:app:svc:status");
  // Line N has seq N + offset in the first run: the start event came first, then every line.
  const numbered = info.filter(([message]) => /^\d+$/.test(message));
  const offset = numbered[0][1] - Number(numbered[0][0]);
  const present = new Set<number>();
  let arrivedAnyway = 0;
  for (const [message, seq] of numbered) {
    assert.equal(seq - Number(message), offset, `line ${message} has seq ${seq}`);
    if (present.has(Number(message))) continue;
    present.add(Number(message));
    if (maybeSent(seq)) arrivedAnyway++;
    else assert.ok(!isLost(seq), `line ${message} (seq ${seq}) arrived but is reported lost`);
  }
  const missing: number[] = [];
  for (let n = 1; n <= 2 * HALF; n++) if (!present.has(n)) missing.push(n);
  console.log(`lost ${reported} events, seq ${report[2]}; in flight ${sendFirst}-${sendLast}`);
  assert.ok(missing.length > 0, "the kill lost nothing: the test did not exercise a loss");
  assert.equal(missing.length, reported - arrivedAnyway, "the reported count is what is missing");
  for (const n of missing) {
    assert.ok(isLost(n + offset), `line ${n} missing, seq ${n + offset} not reported`);
  }

  // The seq fields show the gap to consumers too, and numbering went on after it.
  const seqs = new Set([...info, ...status].map(([, seq]) => seq));
  let highest = 0;
  for (const seq of seqs) highest = Math.max(highest, seq);
  for (let seq = 1; seq <= highest; seq++) {
    if (maybeSent(seq)) continue;
    assert.ok(
      seqs.has(seq) !== isLost(seq),
      `seq ${seq}: present ${seqs.has(seq)}, lost ${isLost(seq)}`,
    );
  }
  const lossEntry = status.find(([message]) => message.startsWith("The previous wrapp"));
  assert.ok(
    lossEntry && lossEntry[1] > lost.at(-1)![1],
    "the report is in Redis, numbered after the loss",
  );
  assert.ok(info.some(([message]) => message === "second run"));
});
