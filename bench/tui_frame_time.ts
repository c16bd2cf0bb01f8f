/**
 * Frame times of `wrapp trace --tui` in a real terminal (tmux), at 50 ms ticks with
 * 100,000 syscalls/s flowing in, beside a hand-written floor in the same run:
 *
 * 1. `wrapp trace --demo --fps` (ink 8 + React 19, incremental redraw), 100k syscalls/s
 *    of deterministic synthetic data; its RSS is sampled to show the memory stays flat;
 * 2. the floor, bench/_tui_floor.ts: the same data and state, plain lines written by hand
 *    (no layout, colors or diffing) — what a frame costs without a terminal library;
 * 3. with root and bpftrace: `wrapp trace --tui --fps` of a C program making about
 *    400,000 real syscalls/s (counts arrive once a second; the view redraws every tick).
 *
 * Frame time: from the start of a tick (pull data, update the state) to the frame
 * written to the terminal; the first second (module loading, JIT) is left out.
 *
 * Run: deno run -A bench/tui_frame_time.ts [SECONDS]   (default 30 per run)
 */

import { fileURLToPath } from "node:url";

const seconds = Number(Deno.args[0] ?? 30);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO = Deno.execPath();
const SOCKET = `wrapp-bench-${Deno.pid}`;

function tmux(...args: string[]): string {
  const out = new Deno.Command("tmux", { args: ["-L", SOCKET, ...args], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout);
}

/** RSS in MiB of the process running in the pane (the shell's child), or NaN. */
function paneRssMiB(): number {
  const shell = tmux("display-message", "-p", "-t", "b", "#{pane_pid}").trim();
  const child = new TextDecoder().decode(
    new Deno.Command("pgrep", { args: ["-P", shell], stdout: "piped" }).outputSync().stdout,
  ).trim().split("\n")[0];
  try {
    const status = Deno.readTextFileSync(`/proc/${child}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

async function measure(
  label: string,
  command: string,
  quitKey: string | undefined,
): Promise<{ label: string; line: string; rss: number[] }> {
  tmux("kill-server");
  tmux(
    "new-session",
    "-d",
    "-s",
    "b",
    "-x",
    "140",
    "-y",
    "40",
    `cd '${ROOT}' && ${command}; echo BENCH-EXIT=$?; sleep 600`,
  );
  const rss: number[] = [];
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sample = paneRssMiB();
    if (!Number.isNaN(sample)) rss.push(sample);
  }
  if (quitKey) tmux("send-keys", "-t", "b", quitKey);
  let screen = "";
  for (let i = 0; i < 300 && !/BENCH-EXIT/.test(screen); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    screen = tmux("capture-pane", "-p", "-t", "b", "-S", "-50");
  }
  tmux("kill-server");
  const line = /frames after the first second: (.*)/.exec(screen)?.[1] ?? "(no figure)";
  return { label, line, rss };
}

const WRAPP = `'${DENO}' run -A --quiet main.ts`;
const runs = [
  await measure(
    "wrapp trace --demo (ink, 100k syscalls/s)",
    `${WRAPP} trace --demo --fps`,
    "q",
  ),
  await measure(
    "floor: same data, hand-written lines",
    `'${DENO}' run -A --quiet bench/_tui_floor.ts ${seconds}`,
    undefined,
  ),
];
if (Deno.uid() === 0) {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    `${dir}/busy.c`,
    `#include <fcntl.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  time_t end = time(0) + ${seconds + 2};
  while (time(0) < end) {
    for (int i = 0; i < 200; i++) { getppid(); close(open("/nonexistent", O_RDONLY)); }
    struct timespec ts = {0, 1000000}; nanosleep(&ts, 0);
  }
  return 0;
}
`,
  );
  new Deno.Command("gcc", { args: ["-O1", "-o", `${dir}/busy`, `${dir}/busy.c`] }).outputSync();
  runs.push(
    await measure(
      "wrapp trace --tui, a real C program (~400k syscalls/s)",
      `${WRAPP} trace --tui --fps --log ${dir}/busy.log -- ${dir}/busy`,
      "q",
    ),
  );
  Deno.removeSync(dir, { recursive: true });
}

console.log(`Frame times at 50 ms ticks, ${seconds} s per run, 140x40 tmux window:`);
for (const run of runs) {
  // RSS at 5 s, then at each quarter of the run: flat means the view keeps nothing.
  const at = [4, ...[1, 2, 3, 4].map((q) => Math.floor((run.rss.length * q) / 4) - 1)];
  const rss = run.rss.length > 8
    ? `; RSS ${at.map((i) => run.rss[i].toFixed(0)).join(" → ")} MiB at ${
      at.map((i) => `${i + 1}`).join(", ")
    } s`
    : "";
  console.log(`  ${run.label.padEnd(56)} ${run.line}${rss}`);
}
console.log("Target: mean ≤ 8 ms, p99 ≤ 16 ms.");
