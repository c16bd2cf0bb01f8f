/**
 * What an idle service costs all day: the CPU of each wrapper's tree (the service excluded),
 * from /proc/<pid>/task/<tid>/schedstat (nanoseconds, not 10 ms ticks), over a long window
 * that starts once start-up is well over. `bench:go`'s idle window starts seconds after
 * spawn, where what a Deno program does once after start (its first full GCs, the first
 * samples) dominates; a robot's services idle for hours.
 *
 * The wrappers run side by side, at the same time, against one redis-server: the Go wrapp
 * (when present), ours (`deno run -A <V8 flags> --unstable-lazy-dynamic-imports <entry>
 * run`), optionally an earlier checkout's, and Deno's floor (`deno run` of a script awaiting
 * a one-hour timer).
 *
 * ```sh
 * deno run -A bench/idle_steady.ts [--settle 60] [--window 180] [--entry dist/bundle/main.js]
 *   [--before DIR] [--go DIR]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { startRedis } from "../tests/_redis.ts";
import { V8_FLAGS } from "../.ci/v8_flags.ts";
import { goPeer } from "./_go_peer.ts";
import { snapshotTree } from "./_proc_tree.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    settle: { type: "string", default: "60" },
    window: { type: "string", default: "180" },
    entry: { type: "string" },
    before: { type: "string" },
    go: { type: "string" },
  },
});
const settleS = Number(values.settle);
const windowS = Number(values.window);
const ROOT = fromFileUrl(new URL("../", import.meta.url));
// Absolute: the wrappers run in the temporary folder.
const entry = values.entry ? Deno.realPathSync(values.entry) : `${ROOT}main.ts`;
const beforeDir = values.before && Deno.realPathSync(values.before);
const { binary: goBinary, present: goPresent } = goPeer(values.go);

const dir = await Deno.makeTempDir({ prefix: "wrapp-idle-steady-" });
const redis = await startRedis();
const userLine = Deno.uid() === 0 ? `user = "root"\n` : "";
const app = (name: string) =>
  `[app]\nexecutable = "sleep"\nargs = ["3600"]\n${userLine}stream_name = "${name}"\n`;
const ours = (name: string) =>
  `[redis]\nhost = "127.0.0.1"\nport = ${redis.port}\nspool_dir = "${dir}/spool-${name}"\n\n${
    app(name)
  }`;
const V8 = `--v8-flags=${V8_FLAGS.join(",")}`;
// Imports load as they run, as in the compiled binary (see bench/vs_go_wrapp.ts).
const LAZY_IMPORTS = "--unstable-lazy-dynamic-imports";
await Deno.writeTextFile(`${dir}/floor.ts`, "await new Promise((r) => setTimeout(r, 3.6e6));\n");

interface Side {
  id: string;
  argv: string[];
}
const sides: Side[] = [];
async function config(name: string, text: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}.toml`, text);
  return `${dir}/${name}.toml`;
}
if (goPresent) {
  const text = `[redis]\nhost = "127.0.0.1"\nport = ${redis.port}\npassword = ""\n\n${app("go")}`;
  sides.push({ id: "go", argv: [goBinary, await config("go", text)] });
}
if (beforeDir) {
  const cfg = await config("before", ours("before"));
  sides.push({
    id: "before",
    argv: [Deno.execPath(), "run", "-A", V8, LAZY_IMPORTS, `${beforeDir}/main.ts`, "run", cfg],
  });
}
sides.push({
  id: "ours",
  argv: [Deno.execPath(), "run", "-A", V8, LAZY_IMPORTS, entry, "run"]
    .concat([await config("ours", ours("ours"))]),
});
sides.push({ id: "floor", argv: [Deno.execPath(), "run", "-A", `${dir}/floor.ts`] });

/** CPU time of every thread of `pids`, in ns. */
function cpuNs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        ns += Number(
          Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0],
        );
      }
    } catch { /* gone */ }
  }
  return ns;
}

const children = sides.map((side) =>
  new Deno.Command(side.argv[0], {
    args: side.argv.slice(1),
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn()
);
try {
  console.error(`settling ${settleS} s, then measuring ${windowS} s…`);
  await new Promise((resolve) => setTimeout(resolve, settleS * 1000));
  const statuses = children.map((child) => child.status);
  const ended = await Promise.race([Promise.race(statuses), Promise.resolve(undefined)]);
  if (ended !== undefined) throw new Error(`a wrapper exited before the window: ${ended.code}`);
  // The wrapper's tree without the service (sleep), as bench:go counts it.
  const trees = children.map((child) => snapshotTree([child.pid], "sleep").wrapper);
  const before = trees.map(cpuNs);
  await new Promise((resolve) => setTimeout(resolve, windowS * 1000));
  const after = trees.map(cpuNs);
  console.log(
    `\nIdle \`sleep 3600\`, ${settleS} s after spawn, over ${windowS} s (schedstat):\n`,
  );
  console.log("| wrapper | CPU ms per minute | % of one core |\n| --- | --: | --: |");
  sides.forEach((side, i) => {
    const ns = after[i] - before[i];
    const perMinute = ns / 1e6 / (windowS / 60);
    console.log(
      `| ${side.id} | ${perMinute.toFixed(1)} | ${(ns / 1e9 / windowS * 100).toFixed(3)} |`,
    );
  });
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
  await redis.stop();
  await Deno.remove(dir, { recursive: true });
}
