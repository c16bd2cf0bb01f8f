/**
 * How much `wrapp trace` slows a syscall-heavy program down, beside `strace -c -f` and
 * `perf trace -s` (when perf works here), each next to the same workload untraced,
 * measured in the same run with the rounds interleaved:
 *
 * - `dd`: `dd if=/dev/zero of=/dev/null bs=1 count=N`, two cheap syscalls per byte;
 * - `files`: `find /usr/include -type f -exec md5sum {} +`, three times: openat, fstat,
 *   read, lseek, fadvise64, close… on thousands of files, in child processes.
 *
 * The time is the workload's own wall time, measured inside the traced process tree by
 * bash's `time`, so tracer start-up is not counted (each tool's whole run is shown apart).
 * strace and perf stop the program at every call, so they get smaller `dd` counts (each
 * still beside its own untraced run): a ratio is a ratio.
 *
 * A last row shows the floor of any bpftrace tracepoint tool: bpftrace with empty
 * programs on the same two `raw_syscalls` tracepoints (what the kernel charges for
 * entering a BPF program twice per syscall, before wrapp's program does any work).
 *
 * Usage: deno run -A bench/trace_overhead.ts [--rounds 3] [--dd-count 2000000]
 * (root, bpftrace; strace and perf optional; `wrapp trace` must be wired into main.ts)
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, "dd-count": { type: "string" } },
});
const ROUNDS = Number(values.rounds ?? 3);
const DD_COUNT = Number(values["dd-count"] ?? 2_000_000);
const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));

interface Tool {
  name: string;
  prefix: string[] | ((command: string) => string[]);
  /** Workload size relative to wrapp's (strace and perf are far slower). */
  scale: number;
}

const dd = (count: number) => `dd if=/dev/zero of=/dev/null bs=1 count=${count} 2>/dev/null`;
const files = (passes: number) =>
  `for i in $(seq ${passes}); do find /usr/include -type f -exec md5sum {} + ; done >/dev/null`;

async function works(cmd: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "null",
      stderr: "piped",
    })
      .output();
    return out.success ? undefined : new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const dir = await Deno.makeTempDir({ prefix: "wrapp-trace-bench-" });
let scripts = 0;

/** Wall seconds of `script` inside bash (bash's `time`), run under `prefix`; plus the whole run's. */
async function measure(
  prefix: string[] | ((command: string) => string[]),
  script: string,
): Promise<{ inner: number; outer: number }> {
  const file = `${dir}/workload-${scripts++}.sh`;
  await Deno.writeTextFile(file, `TIMEFORMAT="WRAPP_BENCH %3R"\ntime { ${script} ; }\n`);
  const cmd = typeof prefix === "function"
    ? prefix(`/bin/bash ${file}`)
    : [...prefix, "/bin/bash", file];
  const started = performance.now();
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const outer = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  const match = /WRAPP_BENCH (\d+\.\d+)/.exec(stderr);
  if (!out.success || !match) throw new Error(`${cmd.join(" ")} failed (${out.code}): ${stderr}`);
  return { inner: Number(match[1]), outer };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const tools: Tool[] = [
  { name: "wrapp trace", prefix: ["deno", "run", "-A", "--quiet", MAIN, "trace", "--"], scale: 1 },
];
const straceProblem = await works(["strace", "-c", "-f", "-o", "/dev/null", "true"]);
if (straceProblem === undefined) {
  tools.push({
    name: "strace -c -f",
    prefix: ["strace", "-c", "-f", "-o", "/dev/null"],
    scale: 0.1,
  });
}
const perfProblem = await works(["perf", "trace", "-s", "-o", "/dev/null", "--", "true"]);
if (perfProblem === undefined) {
  tools.push({
    name: "perf trace -s",
    prefix: ["perf", "trace", "-s", "-o", "/dev/null", "--"],
    scale: 0.025,
  });
}

const FLOOR_PROGRAM =
  "tracepoint:raw_syscalls:sys_enter /pid == cpid/ { } tracepoint:raw_syscalls:sys_exit /pid == cpid/ { }";
tools.push({
  name: "bpftrace, empty",
  prefix: (command) => ["bpftrace", "-q", "-e", FLOOR_PROGRAM, "-c", command],
  scale: 1,
});

const wrappProblem = await works([...tools[0].prefix as string[], "true"]);
if (wrappProblem !== undefined) {
  console.error(`wrapp trace does not run here: ${wrappProblem}`);
  Deno.exit(1);
}

console.log(
  `trace overhead, ${ROUNDS} rounds interleaved, medians; ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs`,
);
if (straceProblem) console.log(`strace: unavailable (${straceProblem})`);
if (perfProblem) console.log(`perf trace: unavailable (${perfProblem})`);
console.log("");
const header = ["workload", "tool", "untraced s", "traced s", "slowdown", "tool's whole run s"];
const widths = [34, 16, 11, 9, 9, 18];
const line = (cells: string[]) =>
  cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join(" "));

for (const tool of tools) {
  const workloads = [
    {
      name: `dd bs=1 count=${Math.round(DD_COUNT * tool.scale)}`,
      script: dd(Math.round(DD_COUNT * tool.scale)),
    },
    {
      name: `find|md5sum /usr/include x${tool.scale < 0.05 ? 1 : 3}`,
      script: files(tool.scale < 0.05 ? 1 : 3),
    },
  ];
  for (const workload of workloads) {
    const plain: number[] = [];
    const traced: number[] = [];
    const whole: number[] = [];
    await measure([], workload.script); // warm the page cache
    for (let round = 0; round < ROUNDS; round++) {
      plain.push((await measure([], workload.script)).inner);
      const run = await measure(tool.prefix, workload.script);
      traced.push(run.inner);
      whole.push(run.outer);
    }
    const base = median(plain);
    const with_ = median(traced);
    console.log(line([
      workload.name,
      tool.name,
      base.toFixed(3),
      with_.toFixed(3),
      `${(with_ / base).toFixed(2)}x`,
      median(whole).toFixed(3),
    ]));
  }
}

await Deno.remove(dir, { recursive: true });
