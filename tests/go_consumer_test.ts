/**
 * What a consumer written for the Go wrapp reads: `wrapp run` with a [redis] section in
 * the `go` layout (the default) must leave in DBs 1 and 2 exactly what the Go wrapp left
 * for the same service output, written out here by hand from its observed behaviour; and
 * the `wrapp` layout its richer entries. Against a real redis-server.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { runWrapp, tempDir, writeScript } from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

/** Plain lines, markers of both grammars, empty and padded lines, a block, a stderr line. */
const FIXTURE = `echo "first line"
echo "hello {{cnt}} world"
echo "   padded   "
printf 'a\\tb  \\n'
echo ""
echo "   "
echo "{{x}}"
echo "count {{x}} and {{n:12}} and {{v:abc}} and {{a.b}} and {{z:1.5}}"
echo ">>|"
echo "  inner one"
echo "  inner two {{blk}}"
echo "|<<"
sleep 0.3
echo "oops on stderr {{err}}" >&2
sleep 0.3
echo "{{1abc}} {{_u}} {{e:}} {{s:007}}"
echo "last line"
exit 3`;

const STAMP = String.raw`\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d`;
const NEW_RUN = new RegExp(String.raw`^\{\{__NEW_RUN_(${STAMP})\}\}$`);
const endRun = (code: number) =>
  new RegExp(String.raw`^\{\{__END_RUN_(${STAMP})_exit_${code}\}\}$`);

/** Write the config of `script` in `layout` and run it; returns wrapp's exit code. */
async function run(
  dir: string,
  script: string,
  port: number,
  options: { layout?: "go" | "wrapp"; extra?: string } = {},
): Promise<number> {
  const config = `${dir}/svc.toml`;
  await Deno.writeTextFile(
    config,
    `[app]
executable = ${JSON.stringify(script)}
stream_name = "svc"
${options.extra ?? ""}
[output]
echo = false
# DB 2 is compared key by key: without the metrics sampler's keys (tests/metrics_test.ts).
[metrics]
enabled = false
[redis]
port = ${port}
spool_dir = ${JSON.stringify(`${dir}/spool`)}
${options.layout ? `layout = "${options.layout}"` : ""}
`,
  );
  const result = await runWrapp(["run", config]);
  return result.code;
}

/** Every entry of `key` as a field map, oldest first. */
async function entries(client: Redis, key: string): Promise<Record<string, string>[]> {
  return (await client.xrange(key, "-", "+")).map(([, fields]) => {
    const entry: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
    return entry;
  });
}

/** The messages of `key`. */
async function messages(client: Redis, key: string): Promise<string[]> {
  return (await entries(client, key)).map((entry) => entry.message);
}

/** Every key of DB 2 with its value. */
async function values(client: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await client.keys("*")).sort()) out[key] = (await client.get(key))!;
  return out;
}

/** Assert `texts` are the separators of one run ending with `code`, in order; returns the two stamps. */
function assertRun(texts: string[], code: number): [string, string] {
  assert.equal(texts.length, 2, texts.join("\n"));
  const start = NEW_RUN.exec(texts[0])?.[1];
  const end = endRun(code).exec(texts[1])?.[1];
  assert.ok(start && end, texts.join("\n"));
  assert.ok(start <= end, `the run ends (${end}) after it starts (${start})`);
  return [start, end];
}

Deno.test("go layout: DBs 1 and 2 hold exactly what the Go wrapp writes for the same output", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", FIXTURE);
  assert.equal(await run(dir.path, script, redis.port), 3);

  const logs = await redis.client(1);
  assert.deepEqual((await logs.keys("*")).sort(), ["logs:app:svc:info", "logs:app:svc:status"]);
  const info = await entries(logs, "logs:app:svc:info");
  const texts = info.map((entry) => entry.message);
  assert.deepEqual(texts.slice(1, -1), [
    "first line",
    "hello  world",
    "padded",
    "a\tb",
    "count  and  and {{v:abc}} and {{a.b}} and {{z:1.5}}",
    "inner one\n  inner two",
    "oops on stderr",
    "last line",
  ]);
  const [start, end] = assertRun([texts[0], texts.at(-1)!], 3);
  const status = await messages(logs, "logs:app:svc:status");
  assert.deepEqual(status, [
    `{{__NEW_RUN_${start}}}`,
    "Executable exited with code 3.",
    `{{__END_RUN_${end}_exit_3}}`,
  ]);

  assert.deepEqual(await values(await redis.client(2)), {
    "wrapp:svc:1abc": "1",
    "wrapp:svc:_u": "1",
    "wrapp:svc:blk": "1",
    "wrapp:svc:cnt": "1",
    "wrapp:svc:e": "1",
    "wrapp:svc:err": "1",
    "wrapp:svc:n": "12",
    "wrapp:svc:s": "007",
    "wrapp:svc:x": "2",
  });

  // Our own fields ride along.
  assert.deepEqual(info.map((entry) => entry.output ?? ""), [
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "stderr",
    "",
    "",
  ]);
  assert.equal(info[6].lines, "4");
  for (const entry of info) assert.match(entry.pid, /^[1-9]\d*$/, JSON.stringify(entry));
  const [newRun, exited] = await entries(logs, "logs:app:svc:status");
  assert.equal(newRun.phase, "start");
  assert.match(newRun.detail, /^started svc \(pid \d+\)$/);
  assert.equal(exited.exit_code, "3");
  assert.match(exited.detail, /^svc ended with exit code 3 after \d+ ms$/);
  assert.equal((await (await redis.client(5)).hgetall("wrapp:svc:state")).exit_code, "3");
});

Deno.test("wrapp layout: lines as printed, stderr in :error, markers in the text and in DB 2 by our grammar", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", FIXTURE);
  assert.equal(await run(dir.path, script, redis.port, { layout: "wrapp" }), 3);

  const logs = await redis.client(1);
  assert.deepEqual((await logs.keys("*")).sort(), [
    "logs:app:svc:error",
    "logs:app:svc:info",
    "logs:app:svc:status",
  ]);
  assert.deepEqual(await messages(logs, "logs:app:svc:info"), [
    "first line",
    "hello {{cnt}} world",
    "   padded   ",
    "a\tb  ",
    "",
    "   ",
    "{{x}}",
    "count {{x}} and {{n:12}} and {{v:abc}} and {{a.b}} and {{z:1.5}}",
    "  inner one\n  inner two {{blk}}",
    "{{1abc}} {{_u}} {{e:}} {{s:007}}",
    "last line",
  ]);
  assert.deepEqual(await messages(logs, "logs:app:svc:error"), ["oops on stderr {{err}}"]);
  const status = await messages(logs, "logs:app:svc:status");
  assert.equal(status.length, 2, status.join("\n"));
  assert.match(status[0], /^started svc \(pid \d+\)$/);
  assert.match(status[1], /^svc ended with exit code 3 after \d+ ms$/);

  assert.deepEqual(await values(await redis.client(2)), {
    "wrapp:svc:_u": "1",
    "wrapp:svc:a.b": "1",
    "wrapp:svc:blk": "1",
    "wrapp:svc:cnt": "1",
    "wrapp:svc:err": "1",
    "wrapp:svc:n": "12",
    "wrapp:svc:s": "007",
    "wrapp:svc:v": "abc",
    "wrapp:svc:x": "2",
    "wrapp:svc:z": "1.5",
  });
});

Deno.test("go layout: every run of a restarted service has its own separators", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", `echo "run $$"; exit 4`);
  const restart = `[restart]\npolicy = "on-failure"\ndelay = "10ms"\nmax_restarts = 1`;
  // It gives up after one restart: wrapp ends with the last exit code.
  assert.equal(await run(dir.path, script, redis.port, { extra: restart }), 4);

  const logs = await redis.client(1);
  const info = await messages(logs, "logs:app:svc:info");
  assert.equal(info.length, 6, info.join("\n"));
  const first = assertRun([info[0], info[2]], 4);
  const second = assertRun([info[3], info[5]], 4);
  assert.match(info[1], /^run \d+$/);
  assert.match(info[4], /^run \d+$/);
  assert.notEqual(info[1], info[4]);
  const runs = (await entries(logs, "logs:app:svc:status")).filter((e) =>
    e.separator !== undefined || e.phase === "exit"
  ).map((e) => e.message);
  assert.deepEqual(runs, [
    `{{__NEW_RUN_${first[0]}}}`,
    "Executable exited with code 4.",
    `{{__END_RUN_${first[1]}_exit_4}}`,
    `{{__NEW_RUN_${second[0]}}}`,
    "Executable exited with code 4.",
    `{{__END_RUN_${second[1]}_exit_4}}`,
  ]);
});

Deno.test("go layout: a service killed by a signal ends its run with exit code -1", async () => {
  await using redis = await startRedis();
  await using dir = await tempDir();
  const script = await writeScript(dir.path, "svc.sh", `echo before; kill -9 $$`);
  assert.equal(await run(dir.path, script, redis.port), 137);

  const logs = await redis.client(1);
  const info = await messages(logs, "logs:app:svc:info");
  assert.equal(info[1], "before");
  const [start, end] = assertRun([info[0], info[2]], -1);
  assert.equal(info.length, 3, info.join("\n"));
  assert.deepEqual(await messages(logs, "logs:app:svc:status"), [
    `{{__NEW_RUN_${start}}}`,
    "Executable exited with code -1.",
    `{{__END_RUN_${end}_exit_-1}}`,
  ]);
});
