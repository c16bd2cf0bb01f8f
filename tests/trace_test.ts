/**
 * `wrapp trace` as a whole process, against the real bpftrace and kernel: exact counts
 * and errnos of a C program, anomalies for deliberately slow calls, children of a shell
 * script, attaching to a running pid, and the Perfetto trace.
 *
 * Needs root, bpftrace >= 0.14, tracefs and gcc (with static glibc). Without them the
 * tests are ignored on a developer's machine and fail under CI (CI=true).
 */

import assert from "node:assert/strict";
import { preflight } from "../lib/pipeline/bpf/preflight.ts";
import { SYSCALLS_PROGRAM } from "../lib/pipeline/bpf/programs.ts";
import { findExecutable } from "../lib/core/find_executable.ts";
import { checkTraceFileText } from "../lib/pipeline/tef/perfetto_rules.ts";
import { hostArch, syscallNumber } from "../lib/pipeline/syscalls/syscall_table.ts";
import { runWrapp, spawnWrapp } from "./_helpers.ts";

// ---------------------------------------------------------------------------------------
// Prerequisites: fail loudly under CI, ignore elsewhere.

const missing: string[] = [];
const report = await preflight({ tracepoints: SYSCALLS_PROGRAM.tracepoints });
missing.push(...report.problems);
if (await findExecutable("gcc") === undefined) missing.push("gcc is not installed");
const CI = Deno.env.get("CI") === "true";
const ignore = missing.length > 0 && !CI;
if (ignore) console.warn(`tests/trace_test.ts ignored: ${missing.join("; ")}`);

function traceTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    fn: async () => {
      if (missing.length > 0) {
        throw new Error(`Cannot run the bpftrace tests: ${missing.join("; ")}`);
      }
      await fn();
    },
  });
}

// ---------------------------------------------------------------------------------------
// Test programs, compiled once, statically (no dynamic loader: every openat is ours).

const SOURCES: Record<string, string> = {
  /** counts GETPID OPEN_OK OPEN_ENOENT OPEN_ENOTDIR YIELD [EXIT] */
  counts: `
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int n[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 1; i < argc && i <= 6; i++) n[i - 1] = atoi(argv[i]);
  for (int i = 0; i < n[0]; i++) getpid();
  for (int i = 0; i < n[1]; i++) close(open("/dev/null", O_RDONLY));
  for (int i = 0; i < n[2]; i++) open("/nonexistent/wrapp-trace-test", O_RDONLY);
  for (int i = 0; i < n[3]; i++) open("/dev/null/not-a-dir", O_RDONLY);
  for (int i = 0; i < n[4]; i++) sched_yield();
  return n[5];
}`,
  /** slow: 30 sleeps of 1 ms then one of 300 ms; 20 quick reads from a pipe, then one that blocks 300 ms */
  slow: `
#include <poll.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  struct timespec ms1 = {0, 1000000}, ms300 = {0, 300000000};
  for (int i = 0; i < 30; i++) nanosleep(&ms1, 0);
  nanosleep(&ms300, 0);
  int fds[2];
  char c = 'x';
  if (pipe(fds) != 0) return 1;
  if (fork() == 0) {
    for (int i = 0; i < 20; i++) write(fds[1], &c, 1);
    poll(0, 0, 300); /* a single call of its kind: no z-score, only --slow can flag it */
    write(fds[1], &c, 1);
    _exit(0);
  }
  for (int i = 0; i < 21; i++) read(fds[0], &c, 1);
  return 0;
}`,
  /** rename: sleep 300 ms, rename itself "slow", sleep 300 ms, rename itself "done" and exit */
  rename: `
#include <sys/prctl.h>
#include <time.h>
int main(void) {
  struct timespec ms300 = {0, 300000000};
  nanosleep(&ms300, 0);
  prctl(PR_SET_NAME, "slow");
  nanosleep(&ms300, 0);
  prctl(PR_SET_NAME, "done");
  return 0;
}`,
  /** waiter N: block reading stdin, then N sched_yield calls */
  waiter: `
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char buf[16];
  if (read(0, buf, sizeof buf) < 0) return 1;
  for (int i = 0; i < atoi(argv[1]); i++) sched_yield();
  return 0;
}`,
};

let compiled: Promise<{ dir: string; bin: Record<string, string> }> | undefined;

function programs(): Promise<{ dir: string; bin: Record<string, string> }> {
  compiled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "wrapp-trace-test-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const bin: Record<string, string> = {};
    for (const [name, source] of Object.entries(SOURCES)) {
      await Deno.writeTextFile(`${dir}/${name}.c`, source);
      const out = await new Deno.Command("gcc", {
        args: ["-O1", "-static", "-o", `${dir}/${name}`, `${dir}/${name}.c`],
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(`gcc ${name}.c failed: ${new TextDecoder().decode(out.stderr)}`);
      }
      bin[name] = `${dir}/${name}`;
    }
    return { dir, bin };
  })();
  return compiled;
}

interface SummaryJson {
  pid: number;
  exit?: { code?: number; signal?: string };
  calls: number;
  errors: number;
  syscalls: {
    name: string;
    nr: number;
    tid?: number;
    calls: number;
    errors: number;
    errnos: Record<string, number>;
    total_ns: number;
    mean_ns: number;
    p50_ns: number;
    p99_ns: number;
    max_ns: number;
  }[];
  anomalies: {
    pid: number;
    tid: number;
    syscall: string;
    latency_ns: number;
    z_score: number | null;
    reasons: string[];
  }[];
  anomaly_count: number;
  lost_events: number;
  complete: boolean;
}

function parseSummary(stdout: string, stderr: string): SummaryJson {
  try {
    return JSON.parse(stdout);
  } catch (error) {
    throw new Error(`wrapp trace printed no JSON: ${error}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

function row(summary: SummaryJson, name: string) {
  return summary.syscalls.filter((s) => s.name === name);
}

const ARCH = hostArch();

// ---------------------------------------------------------------------------------------

traceTest("wrapp trace counts every call and failure of a program exactly", async () => {
  const { bin } = await programs();
  const result = await runWrapp([
    "trace",
    "--json",
    "--",
    bin.counts,
    "1234",
    "7",
    "5",
    "3",
    "0",
    "3",
  ]);
  const summary = parseSummary(result.stdout, result.stderr);
  assert.equal(result.code, 3, `exit code passed through; stderr: ${result.stderr}`);
  assert.deepEqual(summary.exit, { code: 3 });
  assert.equal(row(summary, "getpid")[0]?.calls, 1234);
  const [openat] = row(summary, "openat");
  assert.equal(openat.calls, 7 + 5 + 3);
  assert.equal(openat.errors, 8);
  assert.deepEqual(openat.errnos, { ENOENT: 5, ENOTDIR: 3 });
  assert.equal(openat.nr, syscallNumber("openat", ARCH));
  assert.equal(row(summary, "close")[0]?.calls, 7);
  assert.equal(row(summary, "execve")[0]?.calls, 1, "traced from its execve on");
  assert.equal(row(summary, "exit_group")[0]?.calls, 1);
  assert.equal(summary.lost_events, 0);
  assert.equal(summary.complete, true);
  // Latency columns are consistent.
  for (const s of summary.syscalls) {
    assert.ok(s.p50_ns <= s.max_ns * 1.0001 && s.mean_ns <= s.max_ns, JSON.stringify(s));
  }
});

traceTest(
  "wrapp trace flags slow calls as anomalies, with thread, latency and z-score",
  async () => {
    const { bin } = await programs();
    const result = await runWrapp([
      "trace",
      "--debug",
      "--json",
      "--slow",
      "200ms",
      "--",
      bin.slow,
    ]);
    const summary = parseSummary(result.stdout, result.stderr);
    const context = `\nsummary: ${result.stdout}\nstderr: ${result.stderr}`;
    assert.equal(result.code, 0, result.stderr);
    const sleep = summary.anomalies.find((a) => a.syscall === "clock_nanosleep");
    assert.ok(sleep, `no nanosleep anomaly${context}`);
    assert.equal(sleep.tid, summary.pid);
    assert.ok(sleep.latency_ns >= 290e6 && sleep.latency_ns < 2e9, String(sleep.latency_ns));
    assert.ok(sleep.z_score! > 3, String(sleep.z_score));
    assert.deepEqual(sleep.reasons, ["zscore", "slow"]);
    const read = summary.anomalies.find((a) => a.syscall === "read");
    assert.ok(read, `no read anomaly${context}`);
    assert.ok(read.latency_ns >= 250e6 && read.z_score! > 3);
    // The child's single poll has no z-score, but is above --slow.
    const poll = summary.anomalies.find((a) => a.syscall === "poll" || a.syscall === "ppoll");
    assert.ok(poll, `no anomaly for the child's poll${context}`);
    assert.notEqual(poll.pid, summary.pid, "in the forked child");
    assert.equal(poll.z_score, null);
    assert.deepEqual(poll.reasons, ["slow"]);
    // The 1 ms sleeps are ordinary.
    assert.equal(summary.anomalies.filter((a) => a.syscall === "clock_nanosleep").length, 1);
    const [nanosleep] = row(summary, "clock_nanosleep");
    assert.equal(nanosleep.calls, 31);
    assert.ok(nanosleep.p50_ns > 0.9e6 && nanosleep.p50_ns < 5e6, String(nanosleep.p50_ns));
    assert.equal(nanosleep.max_ns, sleep.latency_ns, "max is exact above the floor");
    assert.match(
      result.stderr,
      /wrapp: anomaly: \+\d+\.\d{3}s {2}pid \d+ tid \d+ \(slow\) {2}clock_nanosleep {2}3\d\d\.\d ms {2}z=/,
    );
  },
);

traceTest("wrapp trace follows the children of a shell script", async () => {
  const { dir, bin } = await programs();
  const script = `${dir}/kids.sh`;
  await Deno.writeTextFile(
    script,
    `#!/bin/bash\n${bin.counts} 0 0 0 0 111\n${bin.counts} 0 0 0 0 111 &\nwait\nsh -c '${bin.counts} 0 0 0 0 111'\n`,
    { mode: 0o755 },
  );
  const result = await runWrapp([
    "trace",
    "--json",
    "--per-thread",
    "--filter",
    "sched_yield",
    script,
  ]);
  const summary = parseSummary(result.stdout, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  const yields = row(summary, "sched_yield");
  assert.equal(yields.length, 3, JSON.stringify(yields));
  assert.ok(yields.every((r) => r.calls === 111 && r.tid !== summary.pid));
  assert.equal(new Set(yields.map((r) => r.tid)).size, 3);
  assert.deepEqual(summary.syscalls.map((s) => s.name), [
    "sched_yield",
    "sched_yield",
    "sched_yield",
  ]);
});

traceTest("wrapp trace --pid attaches to a running process and ends with it", async () => {
  const { bin } = await programs();
  const waiter = new Deno.Command(bin.waiter, { args: ["321"], stdin: "piped" }).spawn();
  try {
    const wrapp = spawnWrapp(["trace", "--pid", String(waiter.pid), "--json"]);
    const stderr = wrapp.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes(`tracing pid ${waiter.pid}`)) {
      const { value, done } = await stderr.read();
      if (done) throw new Error(`wrapp ended before attaching: ${seen}`);
      seen += value;
    }
    const writer = waiter.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    assert.equal((await waiter.status).code, 0);
    const [status, stdout] = await Promise.all([
      wrapp.status,
      new Response(wrapp.stdout).text(),
      (async () => {
        while (!(await stderr.read()).done);
      })(),
    ]);
    assert.equal(status.code, 0);
    const summary = parseSummary(stdout, seen);
    assert.equal(summary.pid, waiter.pid);
    assert.equal(summary.exit, undefined);
    assert.equal(row(summary, "sched_yield")[0]?.calls, 321);
    assert.deepEqual(row(summary, "execve"), [], "started before wrapp attached");
  } finally {
    try {
      waiter.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await waiter.status;
  }
});

traceTest(
  "wrapp trace --tef writes a Perfetto trace: anomaly slices on their thread, rate counters",
  async () => {
    const { dir, bin } = await programs();
    const script = `${dir}/slow-then-wait.sh`;
    // Long enough for a few once-a-second counter samples.
    await Deno.writeTextFile(script, `#!/bin/sh\n${bin.slow}\nsleep 1.2\n`, { mode: 0o755 });
    const tef = `${dir}/syscalls.trace.json`;
    const result = await runWrapp(["trace", "--tef", tef, "--summary", script]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^% time +seconds +usecs\/call +p50 usecs +p99 usecs +max usecs +calls +errors syscall$/m,
    );
    assert.match(result.stdout, /^100\.00 .* total$/m);
    assert.match(result.stdout, /^anomalies \(\d+\):$/m);
    const text = await Deno.readTextFile(tef);
    assert.deepEqual(checkTraceFileText(text), []);
    const events: Record<string, unknown>[] = JSON.parse(text);
    const slice = events.find((e) => e.ph === "X" && e.name === "clock_nanosleep");
    assert.ok(slice, "an anomaly slice");
    assert.ok((slice.dur as number) >= 290_000);
    const thread = events.find((e) =>
      e.ph === "M" && e.name === "thread_name" && e.pid === slice.pid && e.tid === slice.tid
    );
    assert.deepEqual(thread?.args, { name: "slow" });
    const rates = events.filter((e) => e.ph === "C" && e.name === "syscalls/s");
    assert.ok(rates.length >= 1, "syscall rate counters");
    assert.ok(events.some((e) => e.ph === "C" && e.name === "syscall errors/s"));
    assert.ok(events.some((e) => e.ph === "i" && String(e.name).startsWith("syscalls of pid")));
    assert.ok(events.some((e) => e.ph === "B" && String(e.name).startsWith("run ")));
    // Nothing left beside the trace.
    const leftovers = [...Deno.readDirSync(dir)].filter((e) =>
      e.name.startsWith(".syscalls.trace.json")
    );
    assert.deepEqual(leftovers, []);
  },
);

traceTest(
  "wrapp trace follows thread renames: each slice and track bears the name its thread ran under",
  async () => {
    const { dir, bin } = await programs();
    const tef = `${dir}/rename.trace.json`;
    const result = await runWrapp([
      "trace",
      "--json",
      "--per-thread",
      "--slow",
      "200ms",
      "--tef",
      tef,
      "--",
      bin.rename,
    ]);
    const summary = parseSummary(result.stdout, result.stderr);
    const context = `\nsummary: ${result.stdout}\nstderr: ${result.stderr}`;
    assert.equal(result.code, 0, result.stderr);
    // Renamed after its last slow call: only the rename itself tells the final name.
    const rows = row(summary, "clock_nanosleep") as { tid?: number; comm?: string | null }[];
    assert.deepEqual(rows.map((r) => [r.tid, r.comm]), [[summary.pid, "done"]], context);

    const text = await Deno.readTextFile(tef);
    assert.deepEqual(checkTraceFileText(text), []);
    const events: Record<string, unknown>[] = JSON.parse(text);
    const slices = events.filter((e) =>
      e.ph === "X" && e.name === "clock_nanosleep" && e.tid === summary.pid
    );
    // The name at exec (the file's), then the one it gave itself.
    assert.deepEqual(
      slices.map((e) => (e.args as { comm: string }).comm),
      ["rename", "slow"],
      context,
    );
    // Perfetto names a thread track by its last thread_name: the name of its latest slice.
    const names = events.filter((e) =>
      e.ph === "M" && e.name === "thread_name" && e.pid === summary.pid && e.tid === summary.pid
    ).map((e) => (e.args as { name: string }).name);
    assert.deepEqual(names, ["rename", "slow"]);
  },
);

Deno.test("wrapp trace explains a bad command line and a missing program", async () => {
  const bad = await runWrapp(["trace", "--sumary", "--", "true"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    'wrapp: Unknown option "--sumary" for "wrapp trace" (did you mean "--summary"?): see "wrapp trace --help"',
  );
  const nothing = await runWrapp(["trace"]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /Nothing to trace/);
  if (!ignore && missing.length === 0) {
    const notFound = await runWrapp(["trace", "--", "wrapp-no-such-program"]);
    assert.equal(notFound.code, 127);
    assert.equal(
      notFound.stderr.trim(),
      'wrapp: Cannot start "wrapp-no-such-program": not found in PATH',
    );
  }
});
