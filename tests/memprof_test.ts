/**
 * `wrapp memprof` as a whole process, against the real bpftrace and kernel: a C program
 * compiled here with frame pointers allocates and touches 64 MiB in `alloc_a` and 16 MiB
 * in `alloc_b`, frees `alloc_b`'s memory and reads a file, while the tests read the tree
 * over HTTP, load the page in headless Chromium, and check the exports.
 *
 * Needs root, bpftrace >= 0.14, tracefs, gcc, and for the page chromium (Debian's, used
 * through npm playwright-core). Without them the tests are ignored on a developer's machine
 * and fail under CI (CI=true).
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { preflight } from "../lib/pipeline/bpf/preflight.ts";
import { findExecutable } from "../lib/core/find_executable.ts";
import { MEMPROF_BPF } from "../lib/features/memprof/memprof_bpf.ts";
import type { MemprofStatus } from "../lib/features/memprof/memprof_status.ts";
import { checkTraceFileText } from "../lib/pipeline/tef/perfetto_rules.ts";
import { readLatestTrace, ROOT, tempDir, waitFor } from "./_helpers.ts";
import { type RedisServer, startRedis } from "./_redis.ts";

const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));

const CHROMIUM = "/usr/bin/chromium";
const MIB = 1024; // kB

// ---------------------------------------------------------------------------------------
// Prerequisites: fail loudly under CI, ignore elsewhere.

const missing: string[] = [];
const report = await preflight({ tracepoints: MEMPROF_BPF.tracepoints });
missing.push(...report.problems);
if (await findExecutable("gcc") === undefined) missing.push("gcc is not installed");
const CI = Deno.env.get("CI") === "true";
const ignore = missing.length > 0 && !CI;
if (ignore) console.warn(`tests/memprof_test.ts ignored: ${missing.join("; ")}`);

function memprofTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      if (missing.length > 0) {
        throw new Error(`Cannot run the memprof tests: ${missing.join("; ")}`);
      }
      await fn(t);
    },
  });
}

// ---------------------------------------------------------------------------------------
// The workload, compiled once with frame pointers.

const WORKLOAD = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go = 0;
static void on_usr1(int sig) { (void)sig; go++; }
static void wait_go(int n) { while (go < n) pause(); }
static void say(const char *text) { printf("%s\\n", text); fflush(stdout); }

/* Linux frees unmapped pages that still wait in a CPU's LRU batch (up to 31 per CPU) only
   when that CPU drains it, and memprof counts a page until it is freed. So the workload stays
   on one CPU, and after munmap drains that CPU's batch (MADV_COLD does): "freed" is then
   freed, not left to whatever runs on the CPU next. */
static void stay_on_this_cpu(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sched_getcpu(), &set);
  sched_setaffinity(0, sizeof set, &set);
}
static void drain_lru_batch(void) {
  static char page[4096] __attribute__((aligned(4096)));
  page[0] = 1;
  madvise(page, sizeof page, MADV_COLD);
}

/* Map and touch n bytes, one write per page, in the function itself. */
__attribute__((noinline)) char *alloc_a(size_t n) {
  char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  return p;
}
__attribute__((noinline)) char *alloc_b(size_t n) {
  char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < n; i += 4096) p[i] = 2;
  return p;
}
/* Drop the file from the page cache, then read it: every page comes in now. */
__attribute__((noinline)) long read_file(const char *path) {
  static char buffer[1 << 16];
  long total = 0;
  ssize_t n;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  while ((n = read(fd, buffer, sizeof buffer)) > 0) total += n;
  close(fd);
  return total;
}

int main(int argc, char **argv) {
  signal(SIGUSR1, on_usr1);
  stay_on_this_cpu();
  if (argc > 1 && strcmp(argv[1], "attach") == 0) {
    /* b before the profiler attaches, a after. */
    char *b = alloc_b(16 << 20);
    say("ready");
    wait_go(1);
    char *a = alloc_a(64 << 20);
    say("allocated");
    wait_go(2);
    return a[0] + b[0] - 3;
  }
  char *a = alloc_a(64 << 20);
  char *b = alloc_b(16 << 20);
  say("allocated");
  wait_go(1);
  munmap(b, 16 << 20);
  drain_lru_batch();
  long got = argc > 2 ? read_file(argv[2]) : 0;
  /* A library mapped only now, while profiled. */
  void *late = argc > 3 ? dlopen(argv[3], RTLD_NOW) : 0;
  char *(*late_alloc)(size_t) = late ? (char *(*)(size_t))dlsym(late, "late_alloc") : 0;
  char *c = late_alloc ? late_alloc(8 << 20) : 0;
  printf("freed, read %ld, late %d\\n", got, c != 0);
  fflush(stdout);
  wait_go(2);
  return a[0] + 2 + (c ? c[0] - 4 : 0); /* 3 */
}
`;

/** A library the workload maps late (dlopen), allocating in its own function. */
const LATE_LIBRARY = `
#include <stddef.h>
#include <sys/mman.h>
__attribute__((noinline)) char *late_alloc(size_t n) {
  char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < n; i += 4096) p[i] = 4;
  return p;
}
`;

let compiled: Promise<string> | undefined;

/** The workload's path; `liblate.so` lies beside it. */
function workload(): Promise<string> {
  compiled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "wrapp-memprof-test-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    await Deno.writeTextFile(`${dir}/workload.c`, WORKLOAD);
    await Deno.writeTextFile(`${dir}/late.c`, LATE_LIBRARY);
    const builds = [
      ["-O1", "-fno-omit-frame-pointer", "-o", `${dir}/workload`, `${dir}/workload.c`, "-ldl"],
      [
        "-O1",
        "-fno-omit-frame-pointer",
        "-shared",
        "-fPIC",
        "-o",
        `${dir}/liblate.so`,
        `${dir}/late.c`,
      ],
    ];
    for (const args of builds) {
      const out = await new Deno.Command("gcc", { args, stderr: "piped" }).output();
      if (!out.success) throw new Error(`gcc failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return `${dir}/workload`;
  })();
  return compiled;
}

// ---------------------------------------------------------------------------------------
// Running wrapp memprof and reading what it says.

interface Running {
  child: Deno.ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Wait for a line matching `pattern` on stdout or stderr; returns the match. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The page's base URL, from the notice on stderr. */
  url(): Promise<string>;
  status: Promise<Deno.CommandStatus>;
}

/** Start `wrapp memprof ARGS…` (or `wrapp ARGS…` when `command` is `""`). */
function startMemprof(args: string[], command = "memprof"): Running {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...(command ? [command] : []), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, lines: string[]) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  };
  const pumped = Promise.all([pump(child.stdout, stdout), pump(child.stderr, stderr)]);
  const status = pumped.then(() => child.status);
  const line = async (pattern: RegExp, timeoutMs = 20_000) => {
    let found: RegExpMatchArray | null = null;
    await waitFor(
      () => {
        for (const text of [...stdout, ...stderr]) {
          found = pattern.exec(text);
          if (found) return true;
        }
        return false;
      },
      timeoutMs,
      `${pattern} (stdout: ${stdout.join(" | ")}; stderr: ${stderr.join(" | ")})`,
    );
    return found!;
  };
  return {
    child,
    stdout,
    stderr,
    line,
    url: async () => (await line(/(http:\/\/127\.0\.0\.1:\d+\/)/))[1],
    status,
  };
}

/** A node of the TezEdge tree, as documented in the README. */
interface TreeNode {
  name?:
    | { offset: string; executable: string; functionName: string | null; functionCategory: string }
    | "underThreshold"
    | "unknown";
  executable?: string;
  offset?: string;
  functionName?: string | null;
  functionCategory?: string;
  value: number;
  cacheValue: number;
  frames: TreeNode[];
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url}: HTTP ${response.status}`);
  return await response.json() as T;
}

/** Every node with this function name, anywhere in the tree. */
function findAll(node: TreeNode, name: string): TreeNode[] {
  const here = typeof node.name === "object" && node.name.functionName === name ? [node] : [];
  return [...here, ...node.frames.flatMap((child) => findAll(child, name))];
}

function total(node: TreeNode, name: string): number {
  return findAll(node, name).reduce((sum, n) => sum + n.value, 0);
}

/** The path of function names from the root to the first node named `name`. */
function pathTo(node: TreeNode, name: string, path: string[] = []): string[] | undefined {
  for (const child of node.frames) {
    const label = typeof child.name === "object" ? child.name.functionName ?? "?" : child.name!;
    if (label === name) return [...path, label];
    const below = pathTo(child, name, [...path, label]);
    if (below) return below;
  }
  return undefined;
}

const CATEGORIES = new Set(["nodeRust", "nodeCpp", "systemLib", "unknown"]);

/** Assert that `node` and everything below it have the documented shape and add up. */
function assertShape(node: TreeNode, root = true): void {
  assert.ok(Number.isInteger(node.value) && node.value >= 0, `value ${node.value}`);
  assert.ok(Number.isInteger(node.cacheValue) && node.cacheValue >= 0);
  assert.ok(node.cacheValue <= node.value);
  assert.ok(Array.isArray(node.frames));
  if (root) {
    assert.equal(node.name, undefined);
  } else if (typeof node.name === "string") {
    assert.ok(node.name === "underThreshold" || node.name === "unknown", node.name);
    assert.deepEqual(node.frames, []);
  } else {
    const name = node.name!;
    assert.deepEqual(Object.keys(name).sort(), [
      "executable",
      "functionCategory",
      "functionName",
      "offset",
    ]);
    assert.match(name.offset, /^[0-9a-f]{8,}$/);
    assert.equal(typeof name.executable, "string");
    assert.ok(name.functionName === null || typeof name.functionName === "string");
    assert.ok(CATEGORIES.has(name.functionCategory), name.functionCategory);
    assert.equal(node.executable, name.executable);
    assert.equal(node.offset, name.offset);
    assert.equal(node.functionName, name.functionName);
    assert.equal(node.functionCategory, name.functionCategory);
  }
  if (node.frames.length > 0) {
    // Kept children + underThreshold + unknown explain the node exactly.
    assert.equal(node.frames.reduce((sum, child) => sum + child.value, 0), node.value);
  }
  for (const child of node.frames) assertShape(child, false);
}

function within(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * 0.1,
    `${what}: ${actual} kB, expected ${expected} kB ± 10%`,
  );
}

// ---------------------------------------------------------------------------------------

memprofTest(
  "wrapp memprof -- PROGRAM attributes memory to alloc_a and alloc_b, drops freed memory, counts file reads as cache",
  async (t) => {
    const program = await workload();
    await using dir = await tempDir();
    const data = `${dir.path}/data.bin`;
    const file = await Deno.open(data, { write: true, create: true });
    const chunk = crypto.getRandomValues(new Uint8Array(65536));
    for (let i = 0; i < 512; i++) await file.write(chunk); // 32 MiB
    await file.sync();
    file.close();

    const run = startMemprof([
      "--listen",
      "127.0.0.1:0",
      "--out",
      `${dir.path}/tree.json`,
      "--folded",
      `${dir.path}/stacks.folded`,
      "--tef",
      `${dir.path}/memory.json`,
      "--threshold",
      "0",
      "--",
      program,
      "launch",
      data,
      program.replace(/workload$/, "liblate.so"),
    ]);
    let programPid: number | undefined;
    try {
      const url = await run.url();
      await run.line(/^allocated$/);
      const pid = await getJson<number>(`${url}v1/pid`);
      programPid = pid;
      assert.ok(pid > 0 && pid !== run.child.pid, `the program's pid, not wrapp's: ${pid}`);

      await t.step("the tree puts ~64 MiB under alloc_a and ~16 MiB under alloc_b", async () => {
        let tree: TreeNode = { value: 0, cacheValue: 0, frames: [] };
        await waitFor(
          async () => {
            tree = await getJson<TreeNode>(`${url}v1/tree?threshold=0`);
            return total(tree, "alloc_a") >= 60 * MIB && total(tree, "alloc_b") >= 15 * MIB;
          },
          15_000,
          "alloc_a and alloc_b in the tree",
        );
        within(total(tree, "alloc_a"), 64 * MIB, "alloc_a");
        within(total(tree, "alloc_b"), 16 * MIB, "alloc_b");
        assertShape(tree);
        // Top-down: the allocating functions sit under main.
        const path = pathTo(tree, "alloc_a")!;
        assert.deepEqual(path.slice(-2), ["main", "alloc_a"]);
        const [a] = findAll(tree, "alloc_a");
        assert.equal(a.functionCategory, "nodeCpp");
        assert.equal(a.executable, "workload");
        assert.deepEqual(a.frames, []);
      });

      await t.step("reverse=true puts callers under the allocating functions", async () => {
        const tree = await getJson<TreeNode>(`${url}v1/tree?reverse=true&threshold=0`);
        assertShape(tree);
        const a = tree.frames.find((f) => f.functionName === "alloc_a")!;
        assert.ok(a, "alloc_a at the top of the reversed tree");
        within(a.value, 64 * MIB, "alloc_a (reversed)");
        assert.equal(a.frames[0].functionName, "main");
      });

      await t.step("threshold folds small branches into underThreshold", async () => {
        const tree = await getJson<TreeNode>(`${url}v1/tree?reverse=true&threshold=32768`);
        assertShape(tree);
        const names = tree.frames.map((f) => f.functionName ?? f.name);
        assert.equal(names[0], "alloc_a");
        assert.ok(!names.includes("alloc_b"), `alloc_b (16 MiB) is below 32 MiB: ${names}`);
        const under = tree.frames.find((f) => f.name === "underThreshold")!;
        assert.ok(under.value >= 15 * MIB, `underThreshold holds alloc_b: ${under.value}`);
      });

      await t.step("the status compares the attributed memory with the RSS", async () => {
        const status = await getJson<MemprofStatus>(`${url}v1/status`);
        assert.equal(status.pid, pid);
        assert.equal(status.state, "running");
        assert.ok(status.attributed.residentKb >= 76 * MIB);
        assert.ok(status.process!.rssKb >= status.attributed.residentKb * 0.9);
        assert.ok(status.atAttach!.rssKb < 8 * MIB, "a launched program starts small");
        assert.deepEqual(status.lost, { pages: 0, events: 0 });
      });

      await t.step("the page loads in headless Chromium and shows alloc_a", async () => {
        if (!await exists(CHROMIUM)) {
          if (CI) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
          console.warn("chromium missing: page step skipped");
          return;
        }
        const { chromium } = await import("playwright-core");
        const browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ["--no-sandbox", "--disable-gpu"],
        });
        try {
          const page = await browser.newPage();
          const errors: string[] = [];
          const requests: string[] = [];
          page.on("pageerror", (error: Error) => errors.push(error.message));
          page.on("request", (request: { url(): string }) => requests.push(request.url()));
          await page.goto(url);
          await page.locator(".row .label", { hasText: "alloc_a" }).first().waitFor({
            timeout: 15_000,
          });
          assert.ok(await page.locator("#flame svg text", { hasText: "alloc_a" }).count() > 0);
          assert.match(await page.textContent("#summary") ?? "", /Attributed to call stacks/);
          // Search marks the matching row.
          await page.fill("#search", "alloc_b");
          await page.locator(".row.hit .label", { hasText: "alloc_b" }).waitFor();
          assert.match(await page.textContent("#match") ?? "", /matches hold/);
          assert.deepEqual(errors, []);
          assert.ok(requests.every((r) => r.startsWith(url)), `offline: ${requests}`);
        } finally {
          await browser.close();
        }
      });

      await t.step(
        "after alloc_b's memory is freed the tree drops it; a file read is cache; a late library resolves",
        async () => {
          Deno.kill(pid, "SIGUSR1");
          await run.line(/^freed, read 33554432, late 1$/);
          let tree: TreeNode = { value: 0, cacheValue: 0, frames: [] };
          await waitFor(
            async () => {
              tree = await getJson<TreeNode>(`${url}v1/tree?threshold=0`);
              return total(tree, "alloc_b") < MIB && tree.cacheValue >= 29 * MIB &&
                total(tree, "late_alloc") >= 7 * MIB;
            },
            15_000,
            "alloc_b gone, 32 MiB of page cache and late_alloc",
          );
          within(total(tree, "alloc_a"), 64 * MIB, "alloc_a after the free");
          within(tree.cacheValue, 32 * MIB, "page cache");
          assertShape(tree);
          // A library mapped while profiled is symbolized too.
          const [late] = findAll(tree, "late_alloc");
          within(late.value, 8 * MIB, "late_alloc");
          assert.equal(late.executable, "liblate.so");
          assert.equal(late.functionCategory, "nodeCpp");
          // The read reached the page cache under main (read() of glibc has no frame of its own).
          const main = findAll(tree, "main")[0];
          assert.ok(main.cacheValue >= 29 * MIB, `main holds the cache: ${main.cacheValue}`);
        },
      );

      Deno.kill(pid, "SIGUSR1");
      const status = await run.status;
      assert.equal(status.code, 3, `wrapp exits with the program's code: ${run.stderr.join("\n")}`);

      await t.step("the exports hold the final profile", async () => {
        const tree = JSON.parse(await Deno.readTextFile(`${dir.path}/tree.json`)) as TreeNode;
        assertShape(tree);
        within(total(tree, "alloc_a"), 64 * MIB, "alloc_a in --out");
        assert.ok(total(tree, "alloc_b") < MIB);
        const folded = await Deno.readTextFile(`${dir.path}/stacks.folded`);
        const line = folded.split("\n").find((l) => /;main;alloc_a \d+$/.test(l));
        assert.ok(line, `a main;alloc_a line in:\n${folded}`);
        within(Number(line.split(" ").pop()), 64 * MIB, "alloc_a in --folded");
        const tef = await Deno.readTextFile(`${dir.path}/memory.json`);
        assert.deepEqual(checkTraceFileText(tef), []);
        const counters = (JSON.parse(tef) as { name: string; args: Record<string, number> }[])
          .filter((e) => e.name === "attributed kB");
        assert.ok(counters.length >= 2);
        assert.ok(Math.max(...counters.map((c) => c.args.resident)) >= 76 * MIB);
        const summary = run.stdout.join("\n");
        assert.match(summary, /wrapp memprof: pid \d+ .*attributed to \d+ stacks/);
        assert.match(summary, /MiB {2}alloc_a {2}\(workload\)/);
      });
    } finally {
      for (const pid of [run.child.pid, programPid]) {
        try {
          if (pid !== undefined) Deno.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await run.status;
    }
  },
);

memprofTest(
  "wrapp memprof --pid attaches to a running process and tells memory from before attaching",
  async () => {
    const program = await workload();
    const target = new Deno.Command(program, {
      args: ["attach"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = target.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const said = async (text: string) => {
      let seen = "";
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`workload ended before "${text}": ${seen}`);
        seen += value;
      }
    };
    await said("ready"); // alloc_b's 16 MiB are resident before wrapp attaches
    const run = startMemprof(["--listen", "127.0.0.1:0", "--pid", String(target.pid)]);
    try {
      const url = await run.url();
      Deno.kill(target.pid, "SIGUSR1");
      await said("allocated");
      let tree: TreeNode = { value: 0, cacheValue: 0, frames: [] };
      await waitFor(
        async () => {
          tree = await getJson<TreeNode>(`${url}v1/tree?threshold=0`);
          return total(tree, "alloc_a") >= 60 * MIB;
        },
        15_000,
        "alloc_a in the tree",
      );
      within(total(tree, "alloc_a"), 64 * MIB, "alloc_a");
      assert.equal(total(tree, "alloc_b"), 0, "alloc_b predates attaching");
      const status = await getJson<MemprofStatus>(`${url}v1/status`);
      assert.ok(status.atAttach!.rssKb >= 16 * MIB, `RSS at attach ${status.atAttach!.rssKb}`);
      assert.ok(status.unattributedKb! >= 15 * MIB, `not attributed ${status.unattributedKb}`);
      assert.match(status.command, /workload attach$/);

      run.child.kill("SIGINT"); // stops profiling; the process goes on
      const ended = await run.status;
      assert.equal(ended.code, 0, run.stderr.join("\n"));
      assert.match(run.stdout.join("\n"), /resident before attaching/);
      Deno.kill(target.pid, "SIGUSR1");
      assert.equal((await target.status).code, 0);
    } finally {
      try {
        target.kill("SIGKILL");
      } catch {
        // already gone
      }
      try {
        run.child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await reader.cancel().catch(() => {});
      await run.status;
    }
  },
);

memprofTest("wrapp memprof -- a missing program exits 127 and says so", async () => {
  const run = startMemprof(["--no-server", "--", "./no-such-program"]);
  const status = await run.status;
  assert.equal(status.code, 127);
  assert.match(run.stderr.join("\n"), /wrapp: Cannot start "\.\/no-such-program"/);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The "memprof top" snapshots in a service's Redis trace stream, oldest first. */
async function memprofTops(
  redis: RedisServer,
  stream: string,
): Promise<{ residentKb: number; final: boolean; top: { function: string; kb: number }[] }[]> {
  const entries = await (await redis.client(1)).xrange(`logs:app:${stream}:trace`, "-", "+");
  return entries
    .map(([, fields]) => JSON.parse(fields[fields.indexOf("message") + 1] ?? "null"))
    .filter((event) => event?.name === "memprof top")
    .map((event) => event.args);
}

function topKb(snapshot: { top: { function: string; kb: number }[] }, name: string): number {
  return snapshot.top.find((site) => site.function === name)?.kb ?? 0;
}

memprofTest(
  "wrapp memprof --redis sends snapshots of the top allocation sites to logs:app:<name>:trace",
  async () => {
    const program = await workload();
    await using redis = await startRedis();
    const run = startMemprof([
      "--no-server",
      "--redis",
      `redis://127.0.0.1:${redis.port}`,
      "--redis-every",
      "1s",
      "--name",
      "robot",
      "--",
      program,
    ]);
    try {
      await run.line(/^allocated$/);
      const pid = Number((await run.line(/profiling the memory of pid (\d+)/))[1]);
      // alloc_b comes after alloc_a: free it only once a snapshot has seen both, or on a
      // slow machine it can be allocated and freed between two snapshots.
      await waitFor(
        async () =>
          (await memprofTops(redis, "robot")).some((s) =>
            topKb(s, "alloc_a") > 0 && topKb(s, "alloc_b") > 0
          ),
        15_000,
        "a snapshot naming alloc_a and alloc_b in Redis",
      );
      Deno.kill(pid, "SIGUSR1");
      await run.line(/^freed, read 0, late 0$/);
      Deno.kill(pid, "SIGUSR1");
      assert.equal((await run.status).code, 3);
    } finally {
      stopIfRunning(run);
    }
    assert.match(run.stderr.join("\n"), /streaming events to Redis at 127\.0\.0\.1:\d+/);
    const tops = await memprofTops(redis, "robot");
    const final = tops.at(-1)!;
    assert.equal(final.final, true, "the last snapshot is the final one");
    within(topKb(final, "alloc_a"), 64 * MIB, "alloc_a in the final snapshot");
    assert.equal(topKb(final, "alloc_b"), 0, "alloc_b's memory was freed");
    assert.ok(
      tops.some((s) => !s.final && topKb(s, "alloc_b") > 0),
      "alloc_b while it held memory",
    );
  },
);

memprofTest(
  "wrapp run with [memprof] serves the page and sends snapshots to Redis and the local trace",
  async () => {
    const program = await workload();
    await using redis = await startRedis();
    await using dir = await tempDir();
    const config = `${dir.path}/svc.toml`;
    await Deno.writeTextFile(
      config,
      `[app]
executable = "${program}"
args = ["attach"]
stream_name = "profiled"

[output]
echo = true

[memprof]
every = "1s"
listen = "127.0.0.1:0"

[redis]
url = "redis://127.0.0.1:${redis.port}"

[local]
enabled = true
dir = "${dir.path}/traces"
`,
    );
    const run = startMemprof([config], "run");
    try {
      // The service allocates alloc_b at once (before the profile attaches), alloc_a on SIGUSR1.
      const pid = Number((await run.line(/\[memprof\] profiling the memory of pid (\d+)/))[1]);
      const url = await run.url();
      await run.line(/^ready$/);
      Deno.kill(pid, "SIGUSR1");
      await run.line(/^allocated$/);
      await waitFor(
        async () => {
          const tree = await getJson<TreeNode>(`${url}v1/tree?threshold=1024`);
          return JSON.stringify(tree).includes('"alloc_a"');
        },
        15_000,
        "alloc_a in the served tree",
      );
      assert.equal(await getJson<number>(`${url}v1/pid`), pid);
      Deno.kill(pid, "SIGUSR1");
      assert.equal((await run.status).code, 0);
    } finally {
      stopIfRunning(run);
    }
    const tops = await memprofTops(redis, "profiled");
    assert.ok(tops.length >= 2, `snapshots in Redis: ${tops.length}`);
    within(topKb(tops.at(-1)!, "alloc_a"), 64 * MIB, "alloc_a in the final snapshot");
    const events = await readLatestTrace(`${dir.path}/traces`);
    const counters = events.filter((event) => event.ph === "C" && event.name === "attributed kB");
    assert.ok(
      counters.length >= 2,
      `attributed kB counters in the local trace: ${counters.length}`,
    );
    assert.ok(events.some((event) => event.name === "memprof top"));
  },
);

/** Kill wrapp if a failed assertion left it running. */
function stopIfRunning(run: Running): void {
  try {
    run.child.kill("SIGKILL");
  } catch {
    // It has exited.
  }
}
