/**
 * `wrapp run` throughput and footprint, each figure beside a peer measured in the same run:
 *
 * - lines/s of a child printing 1M short lines through wrapp into the local trace sink,
 *   beside the same child writing straight to a file, and `cat` of that file to /dev/null;
 * - wrapp's start-up time (run of `true`) and peak RSS, beside `deno run` of an empty script.
 *
 * Usage: deno task bench [lines]    (default 1000000; needs /usr/bin/time from Debian's "time")
 */

import { fileURLToPath as fromFileUrl } from "node:url";

const LINES = Number(Deno.args[0] ?? 1_000_000);
const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));
const dir = await Deno.makeTempDir({ prefix: "wrapp-bench-" });

/** Run a command under /usr/bin/time; wall seconds and peak RSS in KiB. */
async function measure(cmd: string[]): Promise<{ seconds: number; rssKiB: number }> {
  const timeFile = `${dir}/time.txt`;
  const started = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "-o", timeFile, ...cmd],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const rssKiB = Number((await Deno.readTextFile(timeFile)).trim().split("\n").at(-1));
  return { seconds, rssKiB };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const config = `${dir}/bench.toml`;
await Deno.writeTextFile(
  config,
  `[app]\nexecutable = "seq"\nargs = ["1", "${LINES}"]\nstream_name = "bench"\n\n` +
    `[local]\ndir = "${dir}/traces"\nkeep_runs = 1\n\n[output]\necho = false\n`,
);
const trueConfig = `${dir}/true.toml`;
await Deno.writeTextFile(
  trueConfig,
  `[app]\nexecutable = "true"\nstream_name = "true"\n\n[local]\ndir = "${dir}/traces-true"\n`,
);
const empty = `${dir}/empty.ts`;
await Deno.writeTextFile(empty, "");
const wrapp = ["deno", "run", "-A", "--quiet", MAIN];

// Warm Deno's module cache so no run pays for it.
await measure([...wrapp, "run", trueConfig]);

const rounds = 3;
const direct: number[] = [];
const cat: number[] = [];
const through: number[] = [];
let wrappRss = 0;
for (let round = 0; round < rounds; round++) {
  direct.push((await measure(["bash", "-c", `seq 1 ${LINES} > ${dir}/direct.txt`])).seconds);
  cat.push((await measure(["bash", "-c", `cat ${dir}/direct.txt > /dev/null`])).seconds);
  const run = await measure([...wrapp, "run", config]);
  through.push(run.seconds);
  wrappRss = Math.max(wrappRss, run.rssKiB);
}

const startWrapp: number[] = [];
const startDeno: number[] = [];
let startWrappRss = 0;
let startDenoRss = 0;
for (let round = 0; round < 5; round++) {
  const w = await measure([...wrapp, "run", trueConfig]);
  const d = await measure(["deno", "run", "-A", "--quiet", empty]);
  startWrapp.push(w.seconds);
  startDeno.push(d.seconds);
  startWrappRss = Math.max(startWrappRss, w.rssKiB);
  startDenoRss = Math.max(startDenoRss, d.rssKiB);
}

const rate = (seconds: number) => Math.round(LINES / seconds).toLocaleString("en-US");
const row = (name: string, seconds: number, extra = "") =>
  console.log(
    `${name.padEnd(44)} ${seconds.toFixed(3).padStart(8)} s ${
      rate(seconds).padStart(12)
    } lines/s ${extra}`,
  );
console.log(
  `${
    LINES.toLocaleString("en-US")
  } lines, median of ${rounds} rounds (${Deno.build.arch}, ${navigator.hardwareConcurrency} cores)`,
);
row("seq > file (child writing a file directly)", median(direct));
row("cat file > /dev/null", median(cat));
row(
  "wrapp run (seq → local trace, assembled)",
  median(through),
  `peak RSS ${(wrappRss / 1024).toFixed(0)} MiB`,
);
console.log(
  `\nstart-up (median of 5): wrapp run of "true" ${median(startWrapp).toFixed(3)} s, peak RSS ${
    (startWrappRss / 1024).toFixed(0)
  } MiB | deno run empty.ts ${median(startDeno).toFixed(3)} s, peak RSS ${
    (startDenoRss / 1024).toFixed(0)
  } MiB`,
);
await Deno.remove(dir, { recursive: true });
