/**
 * How much `wrapp memprof` slows an allocating program down, beside `heaptrack` and
 * `valgrind --tool=massif` (heap, and `--pages-as-heap=yes`, which counts pages like
 * wrapp), each next to the same workload unprofiled, measured in the same run with the
 * rounds interleaved; and how much memory each tool reports beside the RSS growth the
 * program itself sees under that tool.
 *
 * Two workloads (C, built here with `-O2 -fno-omit-frame-pointer`):
 *
 * - `malloc`: rounds of 64 buffers of 64 KiB–1 MiB (malloc, one write per 64 bytes, most
 *   freed again) and lists of 2000 small nodes, keeping about 1 in 16 buffers and some
 *   lists alive: a program that allocates a lot, as most do;
 * - `faults`: rounds of 16 fresh 1 MiB mappings touched page by page, most unmapped
 *   again: nothing but page faults, the worst case for a page-level profiler.
 *
 * Each measures its own
 * work time (so a tool's start-up is not counted; each tool's whole run is shown apart)
 * and reads its RSS from /proc/self/statm before and after, with everything it kept
 * still alive.
 *
 * "tool reports" is what each tool attributes at the end: wrapp the resident kB of its
 * final tree (the process's memory just before exit), heaptrack its peak heap
 * consumption, massif its peak heap (+ allocator overhead) or, with pages-as-heap, its
 * peak of mapped pages.
 *
 * Usage: sudo deno run -A bench/memprof_bench.ts [--rounds 3] [--work 400]
 * (root, bpftrace, gcc; heaptrack and valgrind optional: apt-get install heaptrack valgrind)
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, work: { type: "string" } },
});
const ROUNDS = Number(values.rounds ?? 3);
const WORK = Number(values.work ?? 400);
/** `wrapp memprof`: switch to `[MAIN, "memprof"]` once cli.ts dispatches it. */
const WRAPP_MEMPROF = [fromFileUrl(new URL("../main.ts", import.meta.url)), "memprof"];

const WORKLOAD = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long rss_kb(void) {
  long size = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &size, &rss) != 2) return -1;
  fclose(f);
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}
static unsigned long long seed = 42;
static unsigned rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(seed >> 33);
}
__attribute__((noinline)) static void touch(char *p, size_t n, int v) {
  for (size_t i = 0; i < n; i += 64) p[i] = (char)v;
}
struct node { struct node *next; char payload[48]; };
__attribute__((noinline)) static struct node *make_list(int n) {
  struct node *head = 0;
  for (int i = 0; i < n; i++) {
    struct node *node = malloc(sizeof *node);
    node->next = head;
    node->payload[0] = (char)i;
    head = node;
  }
  return head;
}
static void free_list(struct node *l) {
  while (l) { struct node *next = l->next; free(l); l = next; }
}
__attribute__((noinline)) static char *make_buffer(size_t n) {
  char *p = malloc(n);
  touch(p, n, 1);
  return p;
}

__attribute__((noinline)) static char *map_region(size_t n) {
  char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  return p;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 40;
  int faults = argc > 2 && strcmp(argv[2], "faults") == 0;
  long rss0 = rss_kb();
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  enum { KEEP = 256, LISTS = 64 };
  static char *kept[KEEP];
  static struct node *lists[LISTS];
  size_t kept_n = 0, lists_n = 0, live = 0;
  /* faults: fresh 1 MiB mappings touched page by page, most unmapped again. */
  for (int r = 0; faults && r < rounds; r++) {
    for (int i = 0; i < 16; i++) {
      char *p = map_region(1 << 20);
      if (kept_n < KEEP && rnd() % 16 == 0) { kept[kept_n++] = p; live += 1 << 20; }
      else munmap(p, 1 << 20);
    }
  }
  for (int r = 0; !faults && r < rounds; r++) {
    for (int i = 0; i < 64; i++) {
      size_t size = (64 << 10) + rnd() % (960 << 10);
      char *p = make_buffer(size);
      if (kept_n < KEEP && rnd() % 16 == 0) { kept[kept_n++] = p; live += size; }
      else free(p);
    }
    struct node *l = make_list(2000);
    if (r % 4 == 0 && lists_n < LISTS) { lists[lists_n++] = l; live += 2000 * sizeof(struct node); }
    else free_list(l);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  printf("{\\"work_ms\\": %.3f, \\"rss_start_kb\\": %ld, \\"rss_end_kb\\": %ld, \\"live_kb\\": %zu}\\n",
         ms, rss0, rss_kb(), live / 1024);
  fflush(stdout);
  return kept[0] == 0;
}
`;

interface Run {
  /** The workload's own work time, s. */
  work: number;
  /** The tool's whole run, s. */
  whole: number;
  /** RSS growth the workload saw, kB. */
  rssGrowthKb: number;
  /** Bytes the workload holds at the end, kB. */
  liveKb: number;
  /** What the tool reports, kB (undefined for the unprofiled run). */
  reportedKb?: number;
}

interface Tool {
  name: string;
  /** The command line for `program` (writing its report under `out`). */
  command(program: string, out: string): string[];
  /** kB the tool reports, from its output files. */
  reported(out: string, stdout: string): Promise<number>;
  /** Workload rounds relative to the others (valgrind is slow). */
  scale: number;
}

const dir = await Deno.makeTempDir({ prefix: "wrapp-memprof-bench-" });
let runs = 0;

async function compile(): Promise<string> {
  await Deno.writeTextFile(`${dir}/workload.c`, WORKLOAD);
  const out = await new Deno.Command("gcc", {
    args: ["-O2", "-fno-omit-frame-pointer", "-o", `${dir}/workload`, `${dir}/workload.c`],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return `${dir}/workload`;
}

async function available(program: string): Promise<boolean> {
  try {
    return (await new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

async function measure(
  program: string,
  rounds: number,
  mode: string,
  tool?: Tool,
): Promise<Run> {
  const out = `${dir}/run-${runs++}`;
  await Deno.mkdir(out);
  const cmd = tool
    ? tool.command(`${program} ${rounds} ${mode}`, out)
    : [program, String(rounds), mode];
  const started = performance.now();
  const result = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: out,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const whole = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(result.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith('{"work_ms"'));
  if (!result.success || !line) {
    throw new Error(
      `${cmd.join(" ")} failed (${result.code}): ${stdout}\n${
        new TextDecoder().decode(result.stderr)
      }`,
    );
  }
  const own = JSON.parse(line);
  return {
    work: own.work_ms / 1000,
    whole,
    rssGrowthKb: own.rss_end_kb - own.rss_start_kb,
    liveKb: own.live_kb,
    reportedKb: tool ? await tool.reported(out, stdout) : undefined,
  };
}

/** `129.00M` / `1.50G` / `512.00K` in heaptrack_print's output, in kB. */
function heaptrackKb(text: string, label: string): number {
  const match = new RegExp(`${label}:\\s*([\\d.]+)([KMGB]?)`).exec(text);
  if (!match) throw new Error(`heaptrack_print printed no "${label}"`);
  const factor = { B: 1 / 1024, K: 1, M: 1024, G: 1024 * 1024, "": 1 / 1024 }[match[2]]!;
  return Number(match[1]) * factor;
}

/** The largest snapshot of a massif.out file, kB. */
async function massifPeakKb(file: string): Promise<number> {
  const text = await Deno.readTextFile(file);
  let peak = 0;
  let heap = 0;
  for (const line of text.split("\n")) {
    const match = /^mem_heap(_extra)?_B=(\d+)/.exec(line);
    if (!match) continue;
    if (match[1] === undefined) heap = Number(match[2]);
    else peak = Math.max(peak, heap + Number(match[2]));
  }
  return peak / 1024;
}

const tools: Tool[] = [{
  name: "wrapp memprof",
  command: (program, out) => [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    ...WRAPP_MEMPROF,
    "--no-server",
    "--out",
    `${out}/tree.json`,
    "--threshold",
    "0",
    "--",
    ...program.split(" "),
  ],
  reported: async (out) => {
    const tree = JSON.parse(await Deno.readTextFile(`${out}/tree.json`));
    return tree.value - tree.cacheValue;
  },
  scale: 1,
}];
if (await available("heaptrack")) {
  tools.push({
    name: "heaptrack",
    command: (program, out) => ["heaptrack", "-o", `${out}/heaptrack`, ...program.split(" ")],
    reported: async (out) => {
      const file = [...Deno.readDirSync(out)].find((e) => e.name.startsWith("heaptrack"))!;
      const printed = await new Deno.Command("heaptrack_print", {
        args: ["-f", `${out}/${file.name}`, "--print-peaks", "0", "--print-allocators", "0"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return heaptrackKb(new TextDecoder().decode(printed.stdout), "peak heap memory consumption");
    },
    scale: 1,
  });
}
if (await available("valgrind")) {
  for (const pages of [false, true]) {
    tools.push({
      name: pages ? "massif pages-as-heap" : "valgrind massif",
      command: (program, out) => [
        "valgrind",
        "--tool=massif",
        `--massif-out-file=${out}/massif.out`,
        ...(pages ? ["--pages-as-heap=yes"] : []),
        ...program.split(" "),
      ],
      reported: (out) => massifPeakKb(`${out}/massif.out`),
      scale: 0.25,
    });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mib = (kb: number) => (kb / 1024).toFixed(1);

const program = await compile();
console.log(
  `memprof overhead, ${ROUNDS} rounds interleaved, medians; ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs`,
);
for (const name of ["heaptrack", "valgrind"]) {
  if (!tools.some((t) => t.name.includes(name.replace("valgrind", "massif")))) {
    console.log(`${name}: not installed (apt-get install ${name})`);
  }
}
console.log("");
const header = [
  "tool",
  "work",
  "unprofiled s",
  "profiled s",
  "slowdown",
  "whole run s",
  "tool reports MiB",
  "RSS growth MiB",
  "live MiB",
];
const widths = [21, 11, 12, 10, 8, 11, 16, 14, 8];
const row = (cells: string[]) =>
  cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" ");
console.log(row(header));
console.log(widths.map((w) => "-".repeat(w)).join(" "));

const WORKLOADS = [{ mode: "malloc", rounds: WORK }, { mode: "faults", rounds: WORK / 4 }];
for (const workload of WORKLOADS) {
  for (const tool of tools) {
    const work = Math.max(1, Math.round(workload.rounds * tool.scale));
    await measure(program, work, workload.mode); // warm up
    const plain: Run[] = [];
    const profiled: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await measure(program, work, workload.mode));
      profiled.push(await measure(program, work, workload.mode, tool));
    }
    const base = median(plain.map((r) => r.work));
    const with_ = median(profiled.map((r) => r.work));
    const label = `${workload.mode} x${work}`;
    console.log(row([
      tool.name,
      label,
      base.toFixed(3),
      with_.toFixed(3),
      `${(with_ / base).toFixed(2)}x`,
      median(profiled.map((r) => r.whole)).toFixed(2),
      mib(median(profiled.map((r) => r.reportedKb!))),
      mib(median(profiled.map((r) => r.rssGrowthKb))),
      mib(median(profiled.map((r) => r.liveKb))),
    ]));
    if (tool === tools[0]) {
      console.log(row([
        "(unprofiled)",
        label,
        base.toFixed(3),
        "",
        "",
        median(plain.map((r) => r.whole)).toFixed(2),
        "",
        mib(median(plain.map((r) => r.rssGrowthKb))),
        mib(median(plain.map((r) => r.liveKb))),
      ]));
    }
  }
}

await Deno.remove(dir, { recursive: true });
