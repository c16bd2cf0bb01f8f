/**
 * `wrapp record` as a whole process, against the real bpftrace, kernel, redis-server,
 * nginx, PostgreSQL and a small C program compiled here: the files a recording leaves,
 * what the trace shows, the metadata, `latest`, Ctrl-C, and that nothing is left running.
 *
 * Needs root, bpftrace >= 0.14, tracefs, gcc, redis-server and redis-benchmark; nginx
 * (with wrk or curl) and PostgreSQL for their own tests. Without them the tests are
 * ignored on a developer's machine and fail under CI (CI=true).
 */

import assert from "node:assert/strict";
import { preflight } from "../lib/pipeline/bpf/preflight.ts";
import { SYSCALLS_PROGRAM } from "../lib/pipeline/bpf/programs.ts";
import { findExecutable } from "../lib/core/find_executable.ts";
import { findNeeds, needPrograms } from "../lib/features/record/app_programs.ts";
import { processState } from "../lib/pipeline/sources/spawn_stopped.ts";
import { VERSION } from "../lib/core/version.ts";
import { WORKLOADS } from "../lib/features/record/workloads.ts";
import {
  processesMentioning,
  readLatestTrace,
  runWrapp,
  spawnWrapp,
  tempDir,
  type TraceEvent,
} from "./_helpers.ts";
import { startRedis } from "./_redis.ts";

// ---------------------------------------------------------------------------------------
// Prerequisites: fail loudly under CI, ignore elsewhere.

const CI = Deno.env.get("CI") === "true";
const report = await preflight({ tracepoints: SYSCALLS_PROGRAM.tracepoints });
const bpfMissing = [...report.problems];
if (await findExecutable("gcc") === undefined) bpfMissing.push("gcc is not installed");

async function missingFor(workload: string): Promise<string[]> {
  const needs = WORKLOADS[workload].needs;
  const found = await findNeeds(needs);
  return needs.flatMap((need, i) =>
    found[i] ? [] : [`${needPrograms(need)[0].program} is not installed`]
  );
}

function recordTest(name: string, needs: string[], fn: () => Promise<void>): void {
  const missing = [...bpfMissing, ...needs];
  const ignore = missing.length > 0 && !CI;
  if (ignore) console.warn(`tests/record_test.ts: "${name}" ignored: ${missing.join("; ")}`);
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    fn: async () => {
      if (missing.length > 0) throw new Error(`Cannot run: ${missing.join("; ")}`);
      await fn();
    },
  });
}

// ---------------------------------------------------------------------------------------
// Helpers.

interface Metadata {
  app: string;
  command: string[];
  workload: string[] | null;
  app_version: string | null;
  wrapp_version: string;
  bpftrace_version: string | null;
  kernel: string;
  arch: string;
  host: string;
  start: string;
  end: string;
  duration_s: number;
  events: number;
  lost_events: number;
  syscalls: number;
  syscall_errors: number;
  slow_syscalls: number;
  anomalies: number;
  processes: number;
  threads: number;
  exit_status: { code: number | null; signal: string | null } | null;
  workload_exit_status: { code: number | null; signal: string | null } | null;
  stopped_by: string;
  problem: string | null;
}

/** The recording `latest` points at: its folder, metadata, summary and trace events. */
async function latest(out: string) {
  const name = await Deno.readLink(`${out}/latest`);
  const dir = `${out}/${name}`;
  const metadata = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`)) as Metadata;
  const summary = await Deno.readTextFile(`${dir}/summary.txt`);
  const events = await readLatestTrace(out);
  return { name, dir, metadata, summary, events };
}

/** The pids the trace names as processes, with their names. */
function processNames(events: TraceEvent[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const e of events) {
    if (e.ph === "M" && e.name === "process_name") names.set(e.pid!, String(e.args?.name));
  }
  return names;
}

/** Thread names by tid, for the threads of `pid`. */
function threadNames(events: TraceEvent[], pid: number): Map<number, string> {
  const names = new Map<number, string>();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name" && e.pid === pid) {
      names.set(e.tid!, String(e.args?.name));
    }
  }
  return names;
}

async function alive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== "Z";
}

async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Assert the application, its load and everything they started are gone. */
async function assertNothingLeft(metadata: Metadata, events: TraceEvent[], port?: number) {
  for (const pid of processNames(events).keys()) {
    if (pid === 0 || pid === Deno.pid) continue;
    const title = processNames(events).get(pid);
    if (title?.startsWith("wrapp record")) continue;
    assert.equal(await alive(pid), false, `pid ${pid} (${title}) is still running`);
    assert.deepEqual(await processesMentioning(`syscalls.bt\0${pid}\0`), [], "bpftrace");
  }
  const privateDir = metadata.command.find((arg) => arg.includes("wrapp-record-"));
  if (privateDir) {
    const folder = /\/tmp\/wrapp-record-[^/ ]+/.exec(privateDir)?.[0] ?? privateDir;
    assert.deepEqual(await processesMentioning(folder), []);
    await assert.rejects(Deno.stat(folder), "the private folder is removed");
  }
  if (port !== undefined) assert.equal(await listening(port), false, `port ${port} still open`);
}

function assertMetadata(metadata: Metadata, app: string) {
  assert.equal(metadata.app, app);
  assert.equal(metadata.wrapp_version, VERSION);
  assert.equal(metadata.kernel, Deno.osRelease());
  assert.equal(metadata.arch, Deno.build.arch === "aarch64" ? "aarch64" : "x86_64");
  assert.equal(metadata.host, Deno.hostname());
  assert.match(metadata.bpftrace_version ?? "", /^\d+\.\d+/);
  const start = Date.parse(metadata.start);
  const end = Date.parse(metadata.end);
  assert.ok(start > Date.now() - 600_000 && end > start, `${metadata.start} → ${metadata.end}`);
  assert.ok(Math.abs((end - start) / 1000 - metadata.duration_s) < 0.01);
  assert.ok(metadata.events > 0);
  assert.equal(typeof metadata.lost_events, "number");
  assert.ok(metadata.syscalls > 0);
  assert.ok(metadata.threads >= 1 && metadata.processes >= 1);
  assert.equal(metadata.problem, null);
}

// ---------------------------------------------------------------------------------------
// Without root: --list, --help, usage errors, a missing application.

Deno.test("wrapp record --list: each workload, what it runs, whether its programs are there", async () => {
  const { code, stdout } = await runWrapp(["record", "--list"]);
  assert.equal(code, 0);
  for (const name of ["redis", "nginx", "postgresql"]) {
    assert.match(stdout, new RegExp(`^${name} +\\S`, "m"));
  }
  const redisServer = await findExecutable("redis-server");
  if (redisServer) {
    assert.match(stdout, new RegExp(`✓ redis-server +${redisServer}`));
  } else {
    assert.match(stdout, /✗ redis-server +not installed: apt-get install redis-server/);
  }
  assert.match(stdout, /--custom "COMMAND ARGS"/);
});

Deno.test("wrapp record --help teaches, and wrapp help record says the same", async () => {
  const help = await runWrapp(["record", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: sudo wrapp record \[options\] APP/);
  for (const text of ["trace.json", "summary.txt", "metadata.json", "--custom", "--duration"]) {
    assert.ok(help.stdout.includes(text), text);
  }
  assert.equal((await runWrapp(["help", "record"])).stdout, help.stdout);
  assert.match((await runWrapp(["--help"])).stdout, /wrapp record <app> \| --custom CMD/);
});

Deno.test("wrapp record: an unknown workload or a bad option is a usage error (exit 2)", async () => {
  const typo = await runWrapp(["record", "redsi"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^wrapp: Unknown workload "redsi" \(did you mean "redis"\?\)/);
  const none = await runWrapp(["record"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Nothing to record/);
  const pipe = await runWrapp(["record", "--custom", "ls | wc -l"]);
  assert.equal(pipe.code, 2);
  assert.match(pipe.stderr, /"\|" is shell syntax/);
  const duration = await runWrapp(["record", "redis", "--duration", "soon"]);
  assert.equal(duration.code, 2);
  assert.match(duration.stderr, /Invalid --duration "soon"/);
});

Deno.test("wrapp record with the application missing names its Debian package (exit 127)", async () => {
  await using dir = await tempDir();
  // nginx lives in /usr/sbin: a PATH without it is a machine without nginx.
  const { code, stdout, stderr } = await runWrapp(
    ["record", "nginx", "--out", `${dir.path}/traces`],
    { env: { PATH: `${dir.path}:/usr/bin:/bin` } },
  );
  assert.equal(code, 127, stderr);
  assert.equal(
    stderr.trim(),
    'wrapp: Cannot record "nginx": nginx is not installed (Debian package: nginx)',
  );
  assert.equal(stdout, "");
  await assert.rejects(Deno.stat(`${dir.path}/traces`), "nothing was created");
  const custom = await runWrapp(["record", "--custom", "wrapp-no-such-program --flag"]);
  assert.equal(custom.code, 127);
  assert.match(custom.stderr, /Cannot record "wrapp-no-such-program": not found in PATH/);
});

// ---------------------------------------------------------------------------------------
// Real recordings.

recordTest(
  "wrapp record redis: redis-server's threads, syscalls, memory and lifetime, then nothing left",
  await missingFor("redis"),
  async () => {
    await using dir = await tempDir();
    await using sink = await startRedis();
    const out = `${dir.path}/traces`;
    const { code, stdout, stderr } = await runWrapp([
      "record",
      "redis",
      "--duration",
      "2s",
      "--out",
      out,
      "--redis",
      `redis://127.0.0.1:${sink.port}`,
    ]);
    assert.equal(code, 0, stderr);
    const { name, dir: folder, metadata, summary, events } = await latest(out);
    assert.match(name, /^redis_\d{8}-\d{6}$/);
    for (const file of ["trace.json", "summary.txt", "metadata.json", "app.log", "workload.log"]) {
      assert.ok((await Deno.stat(`${folder}/${file}`)).size > 0, file);
    }
    assert.ok(stdout.includes(`${out}/${name}/`), stdout);
    assert.match(stdout, /SET: \d+ requests\/s/);
    // Every test of the workload ran, however busy the machine (they run one after the other).
    for (const test of ["PING_INLINE", "PING_MBULK", "GET"]) {
      assert.match(stdout, new RegExp(`\\b${test}: \\d+ requests/s`), stdout);
    }

    // metadata.json
    assertMetadata(metadata, "redis");
    const version = new TextDecoder().decode(
      (await new Deno.Command("redis-server", { args: ["--version"], stdout: "piped" }).output())
        .stdout,
    );
    assert.ok(
      version.includes(`v=${metadata.app_version}`),
      `${metadata.app_version} / ${version}`,
    );
    assert.match(metadata.command[0], /\/redis-server$/);
    assert.match(metadata.workload?.[0] ?? "", /\/redis-benchmark$/);
    assert.deepEqual(metadata.exit_status, { code: 0, signal: null });
    assert.equal(metadata.stopped_by, "duration");
    assert.equal(metadata.events, events.length);
    assert.ok(metadata.duration_s >= 2 && metadata.duration_s < 20, String(metadata.duration_s));
    const port = Number(metadata.command[metadata.command.indexOf("--port") + 1]);

    // trace.json: redis-server is a process with a named track per thread.
    const redis = [...processNames(events)].find(([, title]) => title.startsWith("redis-server"));
    assert.ok(redis, JSON.stringify([...processNames(events)]));
    const [pid] = redis;
    const threads = threadNames(events, pid);
    assert.equal(threads.get(pid), "redis-server");
    const bio = [...threads.values()].filter((n) => n.startsWith("bio_"));
    assert.ok(bio.length >= 2, `redis's background threads: ${[...threads.values()]}`);
    // Every thread with a syscall slice is a named track.
    const slices = events.filter((e) => e.ph === "X" && e.pid === pid);
    assert.ok(slices.length > 0, "slow syscalls are slices");
    for (const slice of slices) assert.ok(threads.has(slice.tid!), `tid ${slice.tid} unnamed`);
    assert.ok(slices.every((e) => e.cat === "syscall" || e.cat === "anomaly"));
    // Syscall rates per thread, memory and lifetime.
    const rates = events.filter((e) => e.ph === "C" && e.name === "syscalls/s by thread");
    assert.ok(
      rates.some((e) => Number(e.args?.[`redis-server ${pid}`]) > 1000),
      "main thread busy",
    );
    const memory = events.filter((e) => e.ph === "C" && e.name === "memory kB" && e.pid === pid);
    assert.ok(memory.length >= 4, `${memory.length} memory samples in 2 s`);
    // From when it answered (the end of its start phase) the samples are redis-server's
    // whole memory; a sample right at its exec, before the loader mapped its libraries, is
    // legitimately small.
    const started = events.find((e) => e.cat === "phase" && e.name === "start redis-server")!;
    const afterStart = memory.filter((e) =>
      e.ts! >= started.ts! + (started as { dur?: number }).dur!
    );
    assert.ok(afterStart.length >= 3, `${afterStart.length} memory samples after the start`);
    assert.ok(afterStart.every((e) => Number(e.args?.rss) > 1000));
    const lifetime = events.filter((e) => e.name === "lifetime" && e.pid === pid);
    assert.deepEqual(lifetime.map((e) => e.ph), ["b", "e"]);
    assert.ok(lifetime[1].ts! - lifetime[0].ts! >= 2e6, "it lived through the 2 s load");
    const phases = events.filter((e) => e.cat === "phase").map((e) => e.name);
    assert.deepEqual(phases, ["start redis-server", "redis-benchmark", "stop redis-server"]);

    // summary.txt
    assert.match(summary, /^wrapp record redis: /);
    assert.match(summary, /^workload results\n {2}PING_INLINE: \d+ requests\/s/m);
    assert.match(summary, new RegExp(`^process ${pid} \\(redis-server`, "m"));
    assert.match(summary, /^% time +seconds +usecs\/call/m);
    assert.match(summary, / epoll_wait/);
    assert.match(summary, /^thread \d+ \(bio_\w+\) of process \d+$/m);
    assert.match(summary, /^(top anomalies \(\d+ of \d+|no anomalies)/m);

    await assertNothingLeft(metadata, events, port);

    // --redis: the summary went to the trace stream, the start and end to the status stream.
    const logs = await sink.client(1);
    const trace = await logs.xrange("logs:app:redis:trace", "-", "+");
    const entry = trace.find(([, fields]) => fields.includes("syscall_summary"));
    assert.ok(entry, JSON.stringify(trace.slice(0, 3)));
    const calls = entry[1][entry[1].indexOf("calls") + 1];
    assert.equal(Number(calls), metadata.syscalls);
    const status = (await logs.xrange("logs:app:redis:status", "-", "+")).map(([, f]) =>
      f[f.indexOf("message") + 1]
    );
    assert.ok(status.includes("recording redis"), JSON.stringify(status));
    assert.ok(status.some((m) => m.startsWith("recorded redis: ")), JSON.stringify(status));
  },
);

recordTest(
  "wrapp record --custom on a C program: its threads and child, its own exit code",
  [],
  async () => {
    await using dir = await tempDir();
    const source = `${dir.path}/prog.c`;
    await Deno.writeTextFile(
      source,
      `#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void *worker(void *arg) {
  prctl(PR_SET_NAME, "worker");
  struct timespec ms3 = {0, 3000000};
  for (int i = 0; i < 20; i++) nanosleep(&ms3, 0);
  return arg;
}
int main(int argc, char **argv) {
  pthread_t t;
  pthread_create(&t, 0, worker, 0);
  for (int i = 0; i < 500; i++) close(open("/dev/null", O_RDONLY));
  for (int i = 0; i < 7; i++) open("/nonexistent/wrapp-record-test", O_RDONLY);
  pid_t child = fork();
  if (child == 0) { struct timespec ms20 = {0, 20000000}; nanosleep(&ms20, 0); _exit(0); }
  waitpid(child, 0, 0);
  pthread_join(t, 0);
  return atoi(argv[1]);
}
`,
    );
    const bin = `${dir.path}/prog`;
    const gcc = await new Deno.Command("gcc", {
      args: ["-O1", "-pthread", "-o", bin, source],
      stderr: "piped",
    }).output();
    assert.ok(gcc.success, new TextDecoder().decode(gcc.stderr));
    const out = `${dir.path}/traces`;
    const { code, stderr } = await runWrapp(["record", "--custom", `${bin} 3`, "--out", out]);
    assert.equal(code, 3, `the command's own exit code\n${stderr}`);
    const { name, metadata, summary, events } = await latest(out);
    assert.match(name, /^prog_\d{8}-\d{6}$/);
    assertMetadata(metadata, "prog");
    assert.deepEqual(metadata.command, [bin, "3"]);
    assert.equal(metadata.workload, null);
    assert.equal(metadata.app_version, null);
    assert.deepEqual(metadata.exit_status, { code: 3, signal: null });
    assert.equal(metadata.stopped_by, "exit");
    assert.equal(metadata.processes, 2, "the program and its child");
    assert.equal(metadata.threads, 3);

    const [pid] = [...processNames(events)].find(([, title]) => title.startsWith("prog"))!;
    const threads = threadNames(events, pid);
    const worker = [...threads].find(([, n]) => n === "worker")?.[0];
    assert.ok(worker, `threads: ${JSON.stringify([...threads])}`);
    const sleeps = events.filter((e) =>
      e.ph === "X" && e.tid === worker && e.name?.startsWith("clock_nanosleep")
    );
    assert.ok(sleeps.length >= 15, `${sleeps.length} of the worker's 20 sleeps of 3 ms drawn`);
    assert.match(summary, /openat \(ENOENT 7\)/);
    assert.match(summary, /^thread \d+ \(worker\) of process \d+$/m);
    assert.match(summary, /^ +\d.* +20 +clock_nanosleep$/m);
    await assertNothingLeft(metadata, events);
  },
);

recordTest(
  "wrapp record --custom --duration stops a command that runs on, and all it started",
  [],
  async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/traces`;
    const script = `${dir.path}/server.sh`;
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\nsleep 300 &\necho $! > ${dir.path}/child\nwhile :; do sleep 0.1; done\n`,
      { mode: 0o755 },
    );
    const started = Date.now();
    // As if run with sudo by nobody: the recording is theirs.
    const { code, stderr } = await runWrapp([
      "record",
      "--custom",
      script,
      "--duration",
      "1s",
      "--out",
      out,
    ], { env: { SUDO_UID: "65534", SUDO_GID: "65534" } });
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 15_000);
    const { metadata, events } = await latest(out);
    assert.equal(metadata.stopped_by, "duration");
    assert.deepEqual(metadata.exit_status, { code: null, signal: "SIGTERM" });
    for (
      const path of [out, `${out}/latest/`, `${out}/latest/trace.json`, `${out}/latest/summary.txt`]
    ) {
      assert.equal((await Deno.stat(path)).uid, 65534, path);
    }
    const child = Number(await Deno.readTextFile(`${dir.path}/child`));
    assert.equal(await alive(child), false, "the sleep it started in the background is gone");
    assert.ok(processNames(events).size >= 3, "the script, its sleeps");
    await assertNothingLeft(metadata, events);
  },
);

recordTest(
  "wrapp record: Ctrl-C stops cleanly and still writes every file",
  await missingFor("redis"),
  async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/traces`;
    const child = spawnWrapp(["record", "redis", "--duration", "60s", "--out", out]);
    const decoder = new TextDecoder();
    let stderr = "";
    const reader = child.stderr.getReader();
    while (!stderr.includes("Ctrl-C stops")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const signalled = Date.now();
    child.kill("SIGINT");
    const reading = (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        stderr += decoder.decode(value);
      }
    })();
    const [status, stdout] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      reading,
    ]);
    assert.equal(status.code, 0, stderr);
    assert.ok(Date.now() - signalled < 10_000, "stopped promptly");
    assert.match(stderr, /SIGINT: stopping cleanly and writing the results/);
    assert.match(stdout, /trace\.json/);
    const { metadata, events, summary } = await latest(out);
    assert.equal(metadata.stopped_by, "SIGINT");
    assert.deepEqual(metadata.exit_status, { code: 0, signal: null }, "redis shut down cleanly");
    assert.ok(metadata.duration_s < 30);
    assert.match(summary, /stopped +by Ctrl-C \(SIGINT\)/);
    const port = Number(metadata.command[metadata.command.indexOf("--port") + 1]);
    await assertNothingLeft(metadata, events, port);
  },
);

recordTest(
  "wrapp record nginx: the master and its workers under wrk",
  await missingFor("nginx"),
  async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/traces`;
    const { code, stdout, stderr } = await runWrapp(["record", "nginx", "-d", "2s", "--out", out]);
    assert.equal(code, 0, stderr);
    const { metadata, summary, events } = await latest(out);
    assertMetadata(metadata, "nginx");
    assert.match(metadata.app_version ?? "", /^\d+\.\d+\.\d+/);
    assert.ok(metadata.processes >= 3, `${metadata.processes} processes: a master and 2 workers`);
    const titles = [...processNames(events).values()];
    assert.ok(titles.some((t) => t.startsWith("nginx: master process")), titles.join(", "));
    assert.equal(titles.filter((t) => t === "nginx: worker process").length, 2, titles.join(", "));
    assert.match(stdout, /requests/);
    assert.match(summary, / (sendfile|writev|write)\b/);
    await assertNothingLeft(metadata, events);
  },
);

recordTest(
  "wrapp record postgresql: a cluster run as postgres under pgbench",
  await missingFor("postgresql"),
  async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/traces`;
    const { code, stdout, stderr } = await runWrapp([
      "record",
      "postgresql",
      "-d",
      "2s",
      "--out",
      out,
    ]);
    assert.equal(code, 0, stderr);
    const { metadata, summary, events } = await latest(out);
    assertMetadata(metadata, "postgresql");
    assert.match(metadata.app_version ?? "", /^\d+\.\d+/);
    assert.match(stdout, /^ {2}tps = [\d.]+/m);
    const titles = [...processNames(events).values()];
    for (const helper of ["checkpointer", "walwriter"]) {
      assert.ok(titles.some((t) => t.includes(helper)), titles.join(", "));
    }
    assert.ok(metadata.processes >= 6, `${metadata.processes} processes`);
    const phases = events.filter((e) => e.cat === "phase").map((e) => e.name);
    assert.deepEqual(phases, [
      "initdb",
      "start postgres",
      "pgbench -i",
      "pgbench",
      "stop postgres",
    ]);
    assert.match(summary, / fdatasync\b/);
    await assertNothingLeft(metadata, events);
  },
);
