/**
 * Our wrapp beside the Go wrapp it replaces: the same workloads through both, alternated in
 * one run against one throw-away redis-server, medians of N repetitions, printed as a
 * markdown table (figure | Go wrapp | ours | ours ÷ Go) followed by the method.
 *
 * Workloads (each figure counts the wrapper's process tree: the wrapper and every descendant
 * except the service and what runs under it; our crash watcher runs inside wrapp, or as a
 * bpftrace process in the tree where its eBPF programs cannot load, and then the memory
 * figures are also given without it):
 *
 * 1. `seq 1 <lines>`: lines/s from spawn until the last line is readable in Redis, CPU
 *    seconds and peak RSS of the tree;
 * 2. a paced printer at 1000 lines/s: RSS, PSS and CPU % of the tree over a window, and the
 *    print → XREAD latency (p50/p99) of the lines printed in it;
 * 3. an idle service (`sleep 3600`): RSS, PSS, CPU %; beside it, the Deno runtime's floor
 *    (`deno run` of a script that only sleeps) and its floor for wrapp's job (`_job_floor.ts`:
 *    the runtime features a supervisor needs, and nothing of wrapp's own);
 * 4. several idle services at once: PSS and CPU % of all trees together, and as many floors;
 * 5. N idle services for each N of `--up`: ours supervising them all from one `wrapp up DIR`,
 *    the Go wrapp (which has no `up`) as N separate processes, in the same rounds;
 * 6. `echo hi`: spawn → the line readable by XREAD, spawn → the wrapper's exit; beside it, the
 *    same two floors (spawn → exit).
 *
 * Beside 1 and 2, Deno's floor for lines (`_lines_floor.ts`): a `deno run` that reads the
 * service's pipe and XADDs each line, nothing else, measured the same way (its latency too).
 *
 * After the table, the figures that have a target on the robot are listed against it (met or
 * not; a target whose workload ran at other sizes than the target's says so).
 *
 * The Go wrapp (`wrapp-go-toml`) is looked for in `--go DIR`, else `$WRAPP_GO_PEER_DIR`, else
 * `<repository>/../shared/peers/go-wrapp`; without it ours is measured alone. It is run from
 * there, never copied. A broken workload (lines missing, a wrapper failing) makes the exit code
 * 1; slow figures never do.
 *
 * Usage: `deno task bench:go [--quick] [--n N] [--lines N] [--paced SECONDS] [--idle SECONDS]
 * [--services K] [--up N,M] [--entry PATH] [--go DIR]` (needs redis-server, python3 and /usr/bin/time; run it as root
 * for the crash watcher, as the services on a Jetson run).
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { startRedis } from "../tests/_redis.ts";
import { V8_FLAGS } from "../.ci/v8_flags.ts";
import { goPeer, isExecutable } from "./_go_peer.ts";
import { realtimeUs } from "./_clock.ts";
import { followLatency, type LatencyResult } from "./_latency_reader.ts";
import { PACED_PRINTER_PY } from "./_paced_printer.ts";
import { LINES_FLOOR_TS } from "./_lines_floor.ts";
import { jobFloorTs } from "./_job_floor.ts";
import {
  CLK_TCK,
  cpuSecondsBetween,
  memoryOf,
  snapshotTree,
  type TreeSnapshot,
} from "./_proc_tree.ts";
import { mean, median, percentile } from "./_stats.ts";

// ---- options ----

const USAGE = `Usage: deno run -A bench/vs_go_wrapp.ts [options]
  --quick          short run for development (n=1, 100000 lines, 5 s windows, 3 services, --up 3)
  --n N            repetitions of each workload (default 3; start-up: at least 5)
  --lines N        lines printed by seq (default 1000000)
  --rate N         paced printer's lines per second (default 1000)
  --paced S        paced printer's measuring window, seconds (default 60)
  --idle S         idle measuring window, seconds (default 30)
  --services K     idle services at once, each under its own wrapper (default 10)
  --up N,M         idle services in one "wrapp up DIR" of ours, the Go wrapp running as many
                   separate processes beside it (default 10,30; 0: none)
  --entry PATH     the module ours runs instead of main.ts, e.g. dist/bundle/main.js
  --before DIR     also measure the wrapp in DIR (a checkout of an earlier commit), as a column
  --no-watcher     ours with [crash] ebpf_backtrace = false throughout (no crash watcher)
  --go DIR         folder holding wrapp-go-toml (default $WRAPP_GO_PEER_DIR, else ../shared/peers/go-wrapp)`;

interface Options {
  n: number;
  lines: number;
  rate: number;
  pacedSeconds: number;
  idleSeconds: number;
  services: number;
  /** Sizes of the `wrapp up` workload. */
  up: number[];
  /** The module ours runs (`deno run -A <entry> run cfg.toml`). */
  entry?: string;
  goDir?: string;
  beforeDir?: string;
  noWatcher: boolean;
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    n: 3,
    lines: 1_000_000,
    rate: 1000,
    pacedSeconds: 60,
    idleSeconds: 30,
    services: 10,
    up: [10, 30],
    noWatcher: args.includes("--no-watcher"),
  };
  if (args.includes("--quick")) {
    Object.assign(options, {
      n: 1,
      lines: 100_000,
      pacedSeconds: 5,
      idleSeconds: 5,
      services: 3,
      up: [3],
    });
  }
  const numeric: Record<string, keyof Options> = {
    "--n": "n",
    "--lines": "lines",
    "--rate": "rate",
    "--paced": "pacedSeconds",
    "--idle": "idleSeconds",
    "--services": "services",
  };
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === "--quick" || arg === "--no-watcher") continue;
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    }
    const value = args[++k];
    if (arg === "--go" && value) {
      options.goDir = value;
    } else if (arg === "--before" && value) {
      options.beforeDir = value;
    } else if (arg === "--entry" && value) {
      options.entry = value;
    } else if (arg === "--up" && value && /^\d+(,\d+)*$/.test(value)) {
      options.up = value === "0" ? [] : value.split(",").map(Number).filter((n) => n > 0);
    } else if (arg in numeric && Number(value) > 0) {
      (options[numeric[arg]] as number) = Number(value);
    } else {
      console.error(`Invalid option ${JSON.stringify(arg)}${value ? ` ${value}` : ""}\n${USAGE}`);
      Deno.exit(2);
    }
  }
  return options;
}

const options = parseOptions(Deno.args);
const ROOT = fromFileUrl(new URL("../", import.meta.url));
// Relative paths as the user typed them: `deno task` runs in the repository, INIT_CWD is theirs.
const userCwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
const MAIN = options.entry === undefined
  ? fromFileUrl(new URL("../main.ts", import.meta.url))
  : options.entry.startsWith("/")
  ? options.entry
  : `${userCwd}/${options.entry}`;
try {
  Deno.statSync(MAIN);
} catch {
  console.error(`--entry ${JSON.stringify(options.entry)}: no such file (${MAIN})\n${USAGE}`);
  Deno.exit(2);
}
const { binary: goBinary, present: goPresent } = goPeer(options.goDir);
const PYTHON = isExecutable("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const SETTLE_MS = 5000; // after spawn, before a window starts: both wrappers are up by then
const STOP_TIMEOUT_MS = 30_000;
const SEQ_TIMEOUT_MS = 900_000; // the Go wrapp needs about a minute for 1M lines

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Progress on stderr; the table goes to stdout. */
function progress(text: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
}

/** A workload that did not do its job (lines missing, a wrapper failing): exit code 1. */
class BrokenWorkload extends Error {}

// ---- the two wrappers ----

/** A service for a wrapper to run. */
interface App {
  /** stream_name, distinct per run so no run reads another's entries. */
  name: string;
  executable: string;
  args: string[];
}

/** One of the wrappers under test. */
interface Side {
  id: "go" | "before" | "ours" | "ours-no-watcher";
  /** The command line running `config`. */
  argv(config: string): string[];
  /** The command line supervising every config in `folder` from one process (none: the Go wrapp). */
  up?(folder: string): string[];
  /** The config text for `app`. */
  config(app: App): string;
}

const dir = await Deno.makeTempDir({ prefix: "wrapp-vs-go-" });
const redis = await startRedis().catch(async (error) => {
  await Deno.remove(dir, { recursive: true });
  throw error;
});
// Both wrappers run as the bench does; as root the Go wrapp needs a user (else `su -l archer`).
const userLine = Deno.uid() === 0 ? `user = "root"\n` : "";
const appSection = (app: App) =>
  `[app]\nexecutable = ${JSON.stringify(app.executable)}\nargs = ${
    JSON.stringify(app.args)
  }\n${userLine}stream_name = ${JSON.stringify(app.name)}\n`;

// Ours runs with the V8 flags the compiled binary carries, so the figures are the binary's.
const V8_FLAG = `--v8-flags=${V8_FLAGS.join(",")}`;
const DENO_RUN = [Deno.execPath(), "run", "-A", V8_FLAG];
// And it loads an `import()` when it runs, as the binary does: a plain `deno run` first reads,
// parses and keeps every chunk any `import()` may reach (measured: +2.1 MiB anonymous idle;
// the "graph" floors show the same cost on an empty script).
const LAZY_IMPORTS = "--unstable-lazy-dynamic-imports";
// A bundle (`--entry dist/bundle/main.js`) needs no deno.json, and the binary reads none; but
// `deno run` looks for one up from the module's folder, finds the repository's and reads its
// lockfile: 7 ms of every start (alternated medians, 15 runs each), paid by no floor either
// (their scripts are in a temporary folder).
const NO_CONFIG = MAIN.endsWith(".js") ? ["--no-config"] : [];
const OURS_RUN = [...DENO_RUN, LAZY_IMPORTS];

const GO: Side = {
  id: "go",
  argv: (config) => [goBinary, config],
  config: (app) =>
    `[redis]\nhost = "127.0.0.1"\nport = ${redis.port}\npassword = ""\n\n${appSection(app)}`,
};
// The same keys, but ours refuses `password = ""` (no password is the same thing), and its
// disk spool (used only when Redis lags) goes to the temporary folder, not /var/lib/wrapp.
// --no-watcher: ours without its crash watcher in every workload.
const noWatcher = options.noWatcher ? `\n[crash]\nebpf_backtrace = false\n` : "";
const OURS: Side = {
  id: "ours",
  argv: (config) => [...OURS_RUN, ...NO_CONFIG, MAIN, "run", config],
  up: (folder) => [...OURS_RUN, ...NO_CONFIG, MAIN, "up", folder],
  config: (app) =>
    `[redis]\nhost = "127.0.0.1"\nport = ${redis.port}\nspool_dir = ${
      JSON.stringify(`${dir}/spool/${app.name}`)
    }\n\n${appSection(app)}${noWatcher}`,
};
// --before DIR: the same config run by an earlier checkout, for before/after in one run.
const BEFORE: Side | undefined = options.beforeDir === undefined ? undefined : {
  id: "before",
  argv: (config) => [...OURS_RUN, `${options.beforeDir}/main.ts`, "run", config],
  up: (folder) => [...OURS_RUN, `${options.beforeDir}/main.ts`, "up", folder],
  config: OURS.config,
};
const sides: Side[] = [...(goPresent ? [GO] : []), ...(BEFORE ? [BEFORE] : []), OURS];
// The crash watcher (root only) weighs on start-up and exit: those are also measured without it.
const OURS_NO_WATCHER: Side | undefined = Deno.uid() === 0 && !options.noWatcher
  ? {
    id: "ours-no-watcher",
    argv: OURS.argv,
    config: (app) => `${OURS.config(app)}\n[crash]\nebpf_backtrace = false\n`,
  }
  : undefined;

/** The sides in the order of repetition `rep`: alternated, so drift hits both alike. */
function order(rep: number): Side[] {
  return rep % 2 ? [...sides].reverse() : sides;
}

// ---- running and stopping ----

/** A wrapper (or the Deno floor) running. */
interface Running {
  child: Deno.ChildProcess;
  /** Resolves with the exit code. */
  code: Promise<number>;
  /** The last 4 KiB it wrote on stderr. */
  stderr(): string;
}

const live = new Set<Running>();

function spawn(argv: string[]): Running {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  const drained = (async () => {
    for await (const chunk of child.stderr) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
    }
  })();
  const running: Running = {
    child,
    code: child.status.then(async (status) => {
      await drained.catch(() => {});
      live.delete(running);
      return status.code;
    }),
    stderr: () => tail.trim(),
  };
  live.add(running);
  return running;
}

async function writeConfig(side: Side, app: App, folder = dir): Promise<string> {
  const path = `${folder}/${app.name}.toml`;
  await Deno.writeTextFile(path, side.config(app));
  return path;
}

/** Wait until every tree under `roots` runs its service (`each` of them: a `wrapp up`). */
async function servicesUp(roots: number[], service: string, each = 1): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (roots.some((root) => snapshotTree([root], service).service.length < each)) {
    if (Date.now() > deadline) throw new BrokenWorkload(`the service ${service} never started`);
    await sleep(50);
  }
}

/** SIGKILL every process still in the trees of `runs` (wrapper first), and wait for them. */
async function killTrees(runs: Iterable<Running>): Promise<void> {
  const list = [...runs];
  for (const run of list) {
    const tree = snapshotTree([run.child.pid]);
    for (const pid of [...tree.wrapper, ...tree.watcher, ...tree.service]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(list.map((run) => run.code));
}

/**
 * Stop `run` by SIGTERM to its service (the Go wrapp, signalled itself, leaves its service
 * running); both wrappers then exit on their own. Kills the tree if that takes too long.
 * `every`: SIGTERM to every process of the services (a `wrapp up` of services without children).
 */
async function stopByService(run: Running, service: string, every = false): Promise<number> {
  const services = snapshotTree([run.child.pid], service).service;
  for (const pid of every ? services : services.slice(0, 1)) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // ended meanwhile
    }
  }
  const timer = sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const);
  if (await Promise.race([run.code, timer]) === "timeout") {
    await killTrees([run]);
    throw new BrokenWorkload(
      `the wrapper did not exit ${STOP_TIMEOUT_MS / 1000} s after its service`,
    );
  }
  return await run.code;
}

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await killTrees(live);
    await redis[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  })();
  return cleaning;
}
const onInterrupt = () => void cleanUp().finally(() => Deno.exit(130));
Deno.addSignalListener("SIGINT", onInterrupt);

// ---- reading Redis ----

const logs = await redis.client(1);

/** An entry's text: `message` (the Go layout), else `msg` (our field before the rename). */
function entryText(fields: string[]): string | undefined {
  let msg: string | undefined;
  for (let k = 0; k + 1 < fields.length; k += 2) {
    if (fields[k] === "message") return fields[k + 1];
    if (fields[k] === "msg") msg = fields[k + 1];
  }
  return msg;
}

const infoKey = (name: string) => `logs:app:${name}:info`;

/** XINFO STREAM's `entries-added`: every entry ever added, trimmed or not (Redis ≥ 7). */
async function entriesAdded(key: string): Promise<number> {
  const info = await logs.call("XINFO", "STREAM", key).catch(() => []) as unknown[];
  const at = info.indexOf("entries-added");
  if (at < 0) throw new Error(`Cannot read entries-added of "${key}": needs Redis 7`);
  return Number(info[at + 1]);
}

/** Entries each wrapper adds to `:info` beside the service's lines (run markers), per side. */
const overhead = new Map<Side["id"], number>();

/** Check that `key` got exactly `lines` service lines plus the side's markers. */
async function checkCount(side: Side, key: string, lines: number): Promise<void> {
  const added = await entriesAdded(key);
  const extra = overhead.get(side.id) ?? 0;
  if (added !== lines + extra) {
    throw new BrokenWorkload(
      `${side.id}: "${key}" got ${
        added - extra
      } of ${lines} lines (${added} entries, ${extra} of them markers)`,
    );
  }
}

// ---- figures ----

type Figures = Map<string, Map<Side["id"] | "floor", number[]>>;
const figures: Figures = new Map();
const broken: string[] = [];

function record(key: string, who: Side["id"] | "floor", value: number): void {
  let row = figures.get(key);
  if (!row) figures.set(key, row = new Map());
  let values = row.get(who);
  if (!values) row.set(who, values = []);
  values.push(value);
}

/** Run one repetition; a broken workload is noted (exit code 1) and the bench goes on. */
async function attempt(what: string, body: () => Promise<unknown>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const text = `${what}: ${(error as Error)?.message ?? error}`;
    if (!(error instanceof BrokenWorkload)) throw error;
    broken.push(text);
    progress(`BROKEN ${text}`);
    await killTrees(live);
  }
}

// ---- workload 5: start-up ----

async function startUp(side: Side, name: string, record_ = true): Promise<void> {
  const config = await writeConfig(side, { name, executable: "echo", args: ["hi"] });
  const key = infoKey(name);
  const reader = await redis.client(1);
  try {
    const started = performance.now();
    const run = spawn(side.argv(config));
    let exitedMs: number | undefined;
    run.code.then(() => exitedMs = performance.now() - started);
    let firstMs: number | undefined;
    let last = "0-0";
    while (firstMs === undefined) {
      const reply = await reader.xread("COUNT", 100, "BLOCK", 1000, "STREAMS", key, last) as
        | [string, [string, string[]][]][]
        | null;
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id;
        if (entryText(fields) === "hi" && firstMs === undefined) {
          firstMs = performance.now() - started;
        }
      }
      const late = exitedMs !== undefined ? 10_000 : 60_000;
      if (firstMs === undefined && performance.now() - started > late) {
        await killTrees([run]);
        throw new BrokenWorkload(`${side.id}: "hi" never reached Redis\n${run.stderr()}`);
      }
    }
    const code = await run.code;
    if (code !== 0) throw new BrokenWorkload(`${side.id} exited ${code}\n${run.stderr()}`);
    const extra = (await entriesAdded(key)) - 1;
    const known = overhead.get(side.id);
    if (known !== undefined && known !== extra) {
      throw new BrokenWorkload(`${side.id}: ${extra} markers around one line, ${known} before`);
    }
    overhead.set(side.id, extra);
    if (record_) {
      record("start.first", side.id, firstMs);
      record("start.exit", side.id, exitedMs!);
    }
    progress(
      `start-up ${side.id}: first line ${firstMs.toFixed(0)} ms, exit ${exitedMs!.toFixed(0)} ms`,
    );
  } finally {
    reader.disconnect();
  }
}

// ---- workload 1: seq ----

async function seqRun(side: Side, rep: number): Promise<void> {
  const name = `${side.id}-seq-${rep}`;
  const innerTime = `${dir}/${name}.service-time`;
  const outerTime = `${dir}/${name}.tree-time`;
  const lines = options.lines;
  // The service is /usr/bin/time running seq, so its own CPU can be taken out of the tree's.
  const config = await writeConfig(side, {
    name,
    executable: "/usr/bin/time",
    args: ["-f", "%U %S", "-o", innerTime, "seq", "1", String(lines)],
  });
  const key = infoKey(name);
  const started = performance.now();
  const run = spawn(["/usr/bin/time", "-f", "%U %S", "-o", outerTime, ...side.argv(config)]);
  let exitedMs: number | undefined;
  run.code.then(() => exitedMs = performance.now() - started);
  const peak = new Map<number, number>(); // pid → its VmHWM, KiB
  const watchers = new Set<number>();
  let readableMs: number | undefined;
  let sampledAt = 0;
  while (readableMs === undefined) {
    if (performance.now() - sampledAt >= 200) {
      sampledAt = performance.now();
      const tree = snapshotTree([run.child.pid], "time", false);
      for (const pid of [...tree.wrapper, ...tree.watcher]) {
        peak.set(pid, Math.max(peak.get(pid) ?? 0, memoryOf([pid]).hwm));
      }
      for (const pid of tree.watcher) watchers.add(pid);
    }
    const tail = await logs.xrevrange(key, "+", "-", "COUNT", 8);
    if (tail.some(([, fields]) => entryText(fields) === String(lines))) {
      readableMs = performance.now() - started;
    } else if (
      (exitedMs !== undefined && performance.now() - started - exitedMs > 5000) ||
      performance.now() - started > SEQ_TIMEOUT_MS
    ) {
      throw new BrokenWorkload(
        `${side.id}: line ${lines} not in Redis (wrapper ${
          exitedMs === undefined ? "still running" : "exited"
        })\n${run.stderr()}`,
      );
    } else {
      await sleep(20);
    }
  }
  const code = await run.code;
  if (code !== 0) throw new BrokenWorkload(`${side.id} exited ${code}\n${run.stderr()}`);
  await checkCount(side, key, lines);
  const cpu = async (path: string) =>
    (await Deno.readTextFile(path)).trim().split("\n").at(-1)!.split(" ").map(Number)
      .reduce((a, b) => a + b, 0);
  const treeCpu = (await cpu(outerTime)) - (await cpu(innerTime));
  let all = 0;
  let watcher = 0;
  for (const [pid, kib] of peak) {
    all += kib;
    if (watchers.has(pid)) watcher += kib;
  }
  record("seq.rate", side.id, lines / (readableMs / 1000));
  record("seq.exit", side.id, exitedMs! / 1000);
  record("seq.cpu", side.id, treeCpu);
  record("seq.peak", side.id, all);
  record("seq.peak-watcher", side.id, all - watcher);
  progress(
    `seq ${rep + 1} ${side.id}: ${Math.round(lines / (readableMs / 1000))} lines/s, CPU ${
      treeCpu.toFixed(2)
    } s, peak ${(all / 1024).toFixed(1)} MiB`,
  );
  await logs.del(key);
}

// ---- memory and CPU over a window ----

interface Window {
  rss: number;
  rssNoWatcher: number;
  /** RssAnon of the tree, watcher included. */
  anon: number;
  pss: number;
  pssNoWatcher: number;
  /** Percent of one core. */
  cpu: number;
}

/** Sample the trees under `roots` every 2 s for `seconds`: mean memory, CPU over the window. */
async function measureWindow(roots: number[], service: string | undefined, seconds: number) {
  const samples: { all: ReturnType<typeof memoryOf>; wrapper: ReturnType<typeof memoryOf> }[] = [];
  const take = () => {
    const tree = snapshotTree(roots, service);
    const wrapper = memoryOf(tree.wrapper, true);
    const watcher = memoryOf(tree.watcher, true);
    samples.push({
      wrapper,
      all: {
        rss: wrapper.rss + watcher.rss,
        hwm: wrapper.hwm + watcher.hwm,
        pss: wrapper.pss + watcher.pss,
        anon: wrapper.anon + watcher.anon,
      },
    });
    return tree;
  };
  const first: TreeSnapshot = take();
  const startedAt = performance.now();
  const end = startedAt + seconds * 1000;
  while (performance.now() + 2000 < end) {
    await sleep(2000);
    take();
  }
  await sleep(Math.max(0, end - performance.now()));
  const last = take();
  const elapsed = (performance.now() - startedAt) / 1000;
  const pids = [...last.wrapper, ...last.watcher];
  const window: Window = {
    rss: mean(samples.map((s) => s.all.rss)),
    rssNoWatcher: mean(samples.map((s) => s.wrapper.rss)),
    anon: mean(samples.map((s) => s.all.anon)),
    pss: mean(samples.map((s) => s.all.pss)),
    pssNoWatcher: mean(samples.map((s) => s.wrapper.pss)),
    cpu: (cpuSecondsBetween(first, last, pids) / elapsed) * 100,
  };
  return window;
}

function recordWindow(prefix: string, who: Side["id"] | "floor", window: Window): void {
  record(`${prefix}.rss`, who, window.rss);
  record(`${prefix}.rss-watcher`, who, window.rssNoWatcher);
  record(`${prefix}.anon`, who, window.anon);
  record(`${prefix}.pss`, who, window.pss);
  record(`${prefix}.pss-watcher`, who, window.pssNoWatcher);
  record(`${prefix}.cpu`, who, window.cpu);
}

/** Wait (≥ 3 s, ≤ 30 s) until the trees use under 5% of a core each over one second. */
async function settle(roots: number[], service: string | undefined): Promise<void> {
  await sleep(3000);
  for (const deadline = Date.now() + 27_000; Date.now() < deadline;) {
    const before = snapshotTree(roots, service);
    await sleep(1000);
    const after = snapshotTree(roots, service);
    const busy = cpuSecondsBetween(before, after, [...after.wrapper, ...after.watcher]);
    if (busy <= 0.05 * roots.length) return;
  }
}

const linesFloorScript = `${dir}/lines_floor.ts`;
await Deno.writeTextFile(linesFloorScript, LINES_FLOOR_TS);

/** Deno's floor for `seq`: a `deno run` that XADDs each line (`_lines_floor.ts`); its peak RSS. */
async function seqFloorRun(rep: number): Promise<void> {
  const key = `vsgo-floor-seq-${rep}`;
  const peakFile = `${dir}/floor-seq-${rep}.peak`;
  const lines = String(options.lines);
  const started = performance.now();
  const run = spawn(["/usr/bin/time", "-f", "%M", "-o", peakFile, ...DENO_RUN, linesFloorScript]
    .concat([String(redis.port), key, "seq", "1", lines]));
  const code = await run.code;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new BrokenWorkload(`the seq floor exited ${code}\n${run.stderr()}`);
  const client = await redis.client(0); // the floor sends no SELECT
  const count = await client.xlen(key);
  if (count !== options.lines) {
    throw new BrokenWorkload(`the seq floor delivered ${count} of ${lines} lines`);
  }
  await client.del(key);
  const peak = Number((await Deno.readTextFile(peakFile)).trim().split("\n").at(-1));
  record("seqfloor.peak", "floor", peak);
  record("seqfloor.rate", "floor", options.lines / seconds);
  progress(
    `seq floor ${rep + 1}: ${Math.round(options.lines / seconds)} lines/s, peak RSS ${
      (peak / 1024).toFixed(1)
    } MiB`,
  );
}

// ---- workload 2: the paced printer ----

const printer = `${dir}/paced_printer.py`;
await Deno.writeTextFile(printer, PACED_PRINTER_PY);

/** The latencies, µs, of the lines printed between `fromUs` and `toUs`. */
function latenciesIn(seen: LatencyResult, fromUs: number, toUs: number): number[] {
  return seen.latencyUs.filter((_, k) => seen.sentUs[k] >= fromUs && seen.sentUs[k] <= toUs);
}

/** Record p50 and p99 of `inWindow` (µs) as `<prefix>.p50`/`.p99` in ms; their text for progress. */
function recordLatency(prefix: string, who: Side["id"] | "floor", inWindow: number[]): string {
  const [p50, p99] = [percentile(inWindow, 50) / 1000, percentile(inWindow, 99) / 1000];
  record(`${prefix}.p50`, who, p50);
  record(`${prefix}.p99`, who, p99);
  return `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`;
}

/** One side at the paced rate; its figures recorded under `prefix`. */
async function pacedRun(side: Side, rep: number, prefix = "paced"): Promise<Window> {
  const name = `${side.id}-${prefix}-${rep}`;
  const seconds = options.pacedSeconds;
  const config = await writeConfig(side, {
    name,
    executable: PYTHON,
    args: [printer, String(options.rate), String(seconds + 600)],
  });
  const reader = followLatency({ port: redis.port, db: 1, key: infoKey(name) }, PYTHON);
  try {
    const started = performance.now();
    const run = spawn(side.argv(config));
    const service = PYTHON.slice(PYTHON.lastIndexOf("/") + 1);
    await servicesUp([run.child.pid], service);
    await sleep(Math.max(0, started + SETTLE_MS - performance.now()));
    const fromUs = realtimeUs();
    const window = await measureWindow([run.child.pid], service, seconds);
    const toUs = realtimeUs();
    const code = await stopByService(run, service);
    if (code !== 0) throw new BrokenWorkload(`${side.id} exited ${code}\n${run.stderr()}`);
    const stop = setTimeout(() => reader.stop(), 10_000);
    const seen = await reader.result;
    clearTimeout(stop);
    if (seen.error) throw new BrokenWorkload(`${side.id}: the reader failed: ${seen.error}`);
    if (seen.endCount === undefined) {
      throw new BrokenWorkload(`${side.id}: the printer's last line never reached Redis`);
    }
    await checkCount(side, infoKey(name), seen.endCount + 1);
    const inWindow = latenciesIn(seen, fromUs, toUs);
    if (inWindow.length < 0.9 * options.rate * seconds) {
      throw new BrokenWorkload(
        `${side.id}: ${inWindow.length} lines read in the window, expected about ${
          options.rate * seconds
        }${seen.contiguous ? "" : " (the reader missed some: it fell behind the stream's cap)"}`,
      );
    }
    recordWindow(prefix, side.id, window);
    const latency = recordLatency(prefix, side.id, inWindow);
    progress(
      `${prefix} ${rep + 1} ${side.id}: RSS ${(window.rss / 1024).toFixed(1)} MiB, CPU ${
        window.cpu.toFixed(2)
      } %, ${latency}`,
    );
    await logs.del(infoKey(name));
    return window;
  } finally {
    reader.stop();
  }
}

/**
 * Every side at the paced rate at once, over the same window: the machine's load of that
 * moment weighs on all alike, so ours' CPU ÷ Go's is steadier than the ratio of the separate
 * rounds (there, one busy minute moved ours from 15.3 to 21.7 %). Records that ratio.
 */
async function pacedTogetherRun(rep: number): Promise<void> {
  const runs = await Promise.allSettled(sides.map((side) => pacedRun(side, rep, "together")));
  const failed = runs.find((run) => run.status === "rejected");
  if (failed) throw failed.reason;
  const cpu = (id: Side["id"]) => {
    const run = runs[sides.findIndex((side) => side.id === id)];
    return run.status === "fulfilled" ? run.value.cpu : NaN;
  };
  const ratio = cpu("ours") / cpu("go");
  record("together.ratio", "ours", ratio);
  progress(`together ${rep + 1}: ours' CPU ÷ Go's ${ratio.toFixed(2)}`);
}

/**
 * Deno's floor at the same rate: a `deno run` that reads the printer and XADDs each line
 * (`_lines_floor.ts`), measured like the wrappers. Checked to have delivered the window's lines.
 */
async function pacedFloorRun(rep: number): Promise<void> {
  const key = `vsgo-floor-paced-${rep}`;
  const seconds = options.pacedSeconds;
  const args = [String(redis.port), key, PYTHON, printer, String(options.rate)];
  // Its latency too, read as the wrappers' is: what a Deno program's own loop leaves.
  const reader = followLatency({ port: redis.port, db: 0, key }, PYTHON);
  const run = spawn([...DENO_RUN, linesFloorScript, ...args, String(seconds + 600)]);
  try {
    const service = PYTHON.slice(PYTHON.lastIndexOf("/") + 1);
    await servicesUp([run.child.pid], service);
    await sleep(SETTLE_MS);
    const client = await redis.client(0); // the floor sends no SELECT
    const before = await client.xlen(key);
    const fromUs = realtimeUs();
    const window = await measureWindow([run.child.pid], service, seconds);
    const toUs = realtimeUs();
    const delivered = (await client.xlen(key)) - before;
    if (delivered < 0.9 * options.rate * seconds) {
      throw new BrokenWorkload(
        `the paced floor delivered ${delivered} lines in ${seconds} s\n${run.stderr()}`,
      );
    }
    await killTrees([run]);
    reader.stop();
    const seen = await reader.result;
    const inWindow = latenciesIn(seen, fromUs, toUs);
    if (seen.error || inWindow.length < 0.9 * options.rate * seconds) {
      throw new BrokenWorkload(
        `the paced floor's reader saw ${inWindow.length} lines in the window ${seen.error ?? ""}`,
      );
    }
    recordWindow("pacedfloor", "floor", window);
    const latency = recordLatency("pacedfloor", "floor", inWindow);
    progress(
      `paced floor ${rep + 1}: RSS ${(window.rss / 1024).toFixed(1)} MiB, CPU ${
        window.cpu.toFixed(2)
      } %, ${latency}`,
    );
    await client.del(key);
  } finally {
    reader.stop();
    if (live.has(run)) await killTrees([run]);
  }
}

// ---- workloads 3 and 4: idle services, and the Deno floor ----

async function idleRun(
  side: Side,
  rep: number,
  count: number,
  prefix = count === 1 ? "idle" : "many",
): Promise<void> {
  const runs: Running[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const name = `${side.id}-${prefix}-${rep}-${k}`;
      const config = await writeConfig(side, { name, executable: "sleep", args: ["3600"] });
      runs.push(spawn(side.argv(config)));
    }
    const roots = runs.map((run) => run.child.pid);
    await servicesUp(roots, "sleep");
    await settle(roots, "sleep");
    const window = await measureWindow(roots, "sleep", options.idleSeconds);
    for (const run of runs) await stopByService(run, "sleep");
    recordWindow(prefix, side.id, window);
    progress(
      `${prefix} ${rep + 1} ${side.id} ×${count}: RSS ${(window.rss / 1024).toFixed(1)} MiB, PSS ${
        (window.pss / 1024).toFixed(1)
      } MiB, CPU ${window.cpu.toFixed(2)} %`,
    );
  } finally {
    await killTrees(runs.filter((run) => live.has(run)));
  }
}

/**
 * `count` idle services from one `wrapp up DIR` of `side`; a side without `up` (the Go wrapp)
 * runs them as `count` separate processes, recorded under the same figures.
 */
async function upRun(side: Side, rep: number, count: number): Promise<void> {
  const prefix = `up${count}`;
  if (!side.up) return await idleRun(side, rep, count, prefix);
  const folder = `${dir}/${side.id}-${prefix}-${rep}`;
  await Deno.mkdir(folder);
  for (let k = 0; k < count; k++) {
    const name = `${side.id}-${prefix}-${rep}-${k}`;
    await writeConfig(side, { name, executable: "sleep", args: ["3600"] }, folder);
  }
  const run = spawn(side.up(folder));
  try {
    await servicesUp([run.child.pid], "sleep", count);
    await settle([run.child.pid], "sleep");
    const window = await measureWindow([run.child.pid], "sleep", options.idleSeconds);
    await stopByService(run, "sleep", true);
    recordWindow(prefix, side.id, window);
    progress(
      `${prefix} ${rep + 1} ${side.id} (one up): RSS ${(window.rss / 1024).toFixed(1)} MiB, PSS ${
        (window.pss / 1024).toFixed(1)
      } MiB, CPU ${window.cpu.toFixed(2)} %`,
    );
  } finally {
    if (live.has(run)) await killTrees([run]);
  }
}

const floorScript = `${dir}/floor.ts`;
const jobFloorScript = `${dir}/job_floor.ts`;
await Deno.writeTextFile(jobFloorScript, jobFloorTs(ROOT));

/** `deno run` of Deno's floor for wrapp's job supervising `service`, its lines XADDed to `key`. */
function jobFloorArgv(key: string, service: string[]): string[] {
  return [...DENO_RUN, jobFloorScript, String(redis.port), key, `${dir}/${key}.owner`, ...service];
}
await Deno.writeTextFile(
  floorScript,
  "await new Promise((resolve) => setTimeout(resolve, 3.6e6));\n",
);
// `deno run` reads, parses and keeps the module graph of everything a script may import,
// `import()`s of a literal included (every chunk of the bundle): the same floors, for a
// script that could import ours but does not. A compiled binary loads its modules as they
// are imported, with no such graph.
const mayImportOurs = `if (Deno.args[0] === "import") await import(${
  JSON.stringify(new URL(MAIN, `file://${Deno.cwd()}/`).href)
});\n`;
const graphFloorScript = `${dir}/floor_graph.ts`;
await Deno.writeTextFile(
  graphFloorScript,
  `${mayImportOurs}await new Promise((resolve) => setTimeout(resolve, 3.6e6));\n`,
);

/**
 * Deno's idle floors: `prefix` "floor" (a sleeping script), "floorgraph" (the script that may
 * import ours), or "jobfloor" (`_job_floor.ts` supervising `sleep 3600`, measured as an idle
 * wrapper, the service left out).
 */
async function floorRun(rep: number, prefix: "floor" | "floorgraph" | "jobfloor" = "floor") {
  const service = prefix === "jobfloor" ? "sleep" : undefined;
  const run = spawn(
    service
      ? jobFloorArgv(`vsgo-jobfloor-idle-${rep}`, [service, "3600"])
      : [Deno.execPath(), "run", "-A", prefix === "floor" ? floorScript : graphFloorScript],
  );
  try {
    if (service) await servicesUp([run.child.pid], service);
    await settle([run.child.pid], service);
    const window = await measureWindow([run.child.pid], service, options.idleSeconds);
    recordWindow(prefix, "floor", window);
    progress(
      `${prefix} ${rep + 1}: RSS ${(window.rss / 1024).toFixed(1)} MiB, PSS ${
        (window.pss / 1024).toFixed(1)
      } MiB, CPU ${window.cpu.toFixed(2)} %`,
    );
  } finally {
    await killTrees([run]);
  }
}

/** `count` of Deno's idle floors at once, like `count` separate wrappers. */
async function manyFloorRun(rep: number, count: number): Promise<void> {
  const runs = Array.from(
    { length: count },
    () => spawn([Deno.execPath(), "run", "-A", floorScript]),
  );
  try {
    const roots = runs.map((run) => run.child.pid);
    await settle(roots, undefined);
    const window = await measureWindow(roots, undefined, options.idleSeconds);
    recordWindow("manyfloor", "floor", window);
    progress(
      `${count} floors ${rep + 1}: RSS ${(window.rss / 1024).toFixed(1)} MiB, PSS ${
        (window.pss / 1024).toFixed(1)
      } MiB`,
    );
  } finally {
    await killTrees(runs);
  }
}

/** Deno's floor for wrapp's job with `echo hi`: spawn → exit, its line checked in Redis. */
async function startJobFloorRun(rep: number): Promise<void> {
  const key = `vsgo-jobfloor-start-${rep}`;
  const started = performance.now();
  const run = spawn(jobFloorArgv(key, ["echo", "hi"]));
  const code = await run.code;
  const ms = performance.now() - started;
  if (code !== 0) throw new BrokenWorkload(`the job floor exited ${code}\n${run.stderr()}`);
  const client = await redis.client(0); // the floor sends no SELECT
  const count = await client.xlen(key);
  if (count !== 1) throw new BrokenWorkload(`the job floor delivered ${count} lines of 1`);
  await client.del(key);
  record("start.jobfloor", "floor", ms);
  progress(`start-up job floor ${rep + 1}: exits after ${ms.toFixed(0)} ms`);
}

const startFloorScript = `${dir}/start_floor.ts`;
await Deno.writeTextFile(startFloorScript, 'console.log("hi");\n');
const startGraphFloorScript = `${dir}/start_floor_graph.ts`;
await Deno.writeTextFile(startGraphFloorScript, `console.log("hi");\n${mayImportOurs}`);

/**
 * Deno's own start-up: spawn → exit of `deno run` printing one line, with ours' V8 flags;
 * `key` "start.floorgraph": of the script that may import ours.
 */
async function startFloorRun(key = "start.floor"): Promise<void> {
  const started = performance.now();
  const script = key === "start.floor" ? startFloorScript : startGraphFloorScript;
  const run = spawn([...DENO_RUN, script]);
  const code = await run.code;
  if (code !== 0) throw new BrokenWorkload(`deno run of a one-line script exited ${code}`);
  const ms = performance.now() - started;
  record(key, "floor", ms);
  progress(`start-up floor (${key}): deno run printing one line exits after ${ms.toFixed(0)} ms`);
}

/**
 * The server's own XADD ceiling: `redis-benchmark -P 1000`, as the throughput target names it
 * (one field), and for an entry of ours' shape (MAXLEN and the six fields of a line).
 */
async function redisBenchmarkRun(rep: number): Promise<void> {
  const key = `vsgo-redis-benchmark-${rep}`;
  const n = String(options.lines);
  const oneField = await redisBenchmark([key, "*", "message", n]);
  record("redis-benchmark.rate", "floor", oneField);
  const entry = await redisBenchmark(
    [key, "MAXLEN", "~", "1000", "*", "message", n, "ts", String(Date.now()), "run"]
      .concat([crypto.randomUUID(), "pid", "12345", "host", Deno.hostname(), "seq", n]),
  );
  record("redis-benchmark.entry-rate", "floor", entry);
  progress(
    `redis-benchmark ${rep + 1}: ${Math.round(oneField)} XADD/s, ${
      Math.round(entry)
    } XADD/s of ours' entry`,
  );
  await redis.client(1).then((client) => client.del(key));
}

/** `redis-benchmark -P 1000 -q XADD args…`: requests per second. */
async function redisBenchmark(args: string[]): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command("redis-benchmark", {
    args: ["-h", "127.0.0.1", "-p", String(redis.port), "-P", "1000", "-n", String(options.lines)]
      .concat(["-q", "XADD", ...args]),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  const rates = [...text.matchAll(/([\d.]+) requests per second/g)];
  if (code !== 0 || rates.length === 0) {
    throw new BrokenWorkload(`redis-benchmark: ${new TextDecoder().decode(stderr).trim() || text}`);
  }
  return Number(rates.at(-1)![1]);
}

// ---- the table ----

const MiB = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const fixed = (digits: number, unit = "") => (value: number) =>
  `${
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
  }${unit}`;

interface Row {
  label: string;
  key: string;
  /** Whose figures fill the "ours" column. Default: ours (or the floor). */
  ours?: Side["id"];
  format: (value: number) => string;
}

function rows(): Row[] {
  const lines = options.lines.toLocaleString("en-US");
  const k = options.services;
  return [
    {
      label: `\`seq 1 ${lines}\` → Redis, lines/s (spawn → last line readable)`,
      key: "seq.rate",
      format: fixed(0),
    },
    { label: `\`seq\`: spawn → wrapper exit`, key: "seq.exit", format: fixed(2, " s") },
    { label: `\`seq\`: CPU seconds of the tree`, key: "seq.cpu", format: fixed(2, " s") },
    { label: `\`seq\`: peak RSS of the tree (Σ VmHWM)`, key: "seq.peak", format: MiB },
    { label: `\`seq\`: peak RSS without the crash watcher`, key: "seq.peak-watcher", format: MiB },
    {
      label:
        `Deno's floor for \`seq\` (\`deno run\`: read the pipe, XADD, read the replies): lines/s`,
      key: "seqfloor.rate",
      format: fixed(0),
    },
    { label: `… its peak RSS`, key: "seqfloor.peak", format: MiB },
    {
      label: `${options.rate} lines/s for ${options.pacedSeconds} s: RSS of the tree`,
      key: "paced.rss",
      format: MiB,
    },
    { label: `… RSS without the crash watcher`, key: "paced.rss-watcher", format: MiB },
    { label: `… PSS of the tree`, key: "paced.pss", format: MiB },
    { label: `… PSS without the crash watcher`, key: "paced.pss-watcher", format: MiB },
    { label: `… CPU % of one core`, key: "paced.cpu", format: fixed(2) },
    {
      label: `print → XREAD latency at ${options.rate} lines/s, p50`,
      key: "paced.p50",
      format: fixed(2, " ms"),
    },
    { label: `print → XREAD latency, p99`, key: "paced.p99", format: fixed(2, " ms") },
    {
      label: `${options.rate} lines/s, every side at once (one window): CPU % of one core`,
      key: "together.cpu",
      format: fixed(2),
    },
    {
      label:
        `Deno's floor at ${options.rate} lines/s (\`deno run\`: read the pipe, XADD, read the reply): CPU %`,
      key: "pacedfloor.cpu",
      format: fixed(2),
    },
    { label: `… its RSS`, key: "pacedfloor.rss", format: MiB },
    { label: `… its print → XREAD latency, p50`, key: "pacedfloor.p50", format: fixed(2, " ms") },
    { label: `… its p99`, key: "pacedfloor.p99", format: fixed(2, " ms") },
    {
      label: `idle service, ${options.idleSeconds} s: RSS of the tree`,
      key: "idle.rss",
      format: MiB,
    },
    { label: `… RSS without the crash watcher`, key: "idle.rss-watcher", format: MiB },
    {
      label: `… of its RSS, anonymous (RssAnon: heap, stacks; not mapped files)`,
      key: "idle.anon",
      format: MiB,
    },
    { label: `… PSS of the tree`, key: "idle.pss", format: MiB },
    { label: `… PSS without the crash watcher`, key: "idle.pss-watcher", format: MiB },
    { label: `… CPU % of one core`, key: "idle.cpu", format: fixed(2) },
    {
      label: `Deno's floor (\`deno run\` of a sleeping script): RSS`,
      key: "floor.rss",
      format: MiB,
    },
    { label: `… its PSS`, key: "floor.pss", format: MiB },
    { label: `… its anonymous RSS`, key: "floor.anon", format: MiB },
    { label: `… its CPU % of one core`, key: "floor.cpu", format: fixed(2) },
    {
      label: `… the same script when it may import ours (\`deno run\` keeps its module graph): RSS`,
      key: "floorgraph.rss",
      format: MiB,
    },
    { label: `… its PSS`, key: "floorgraph.pss", format: MiB },
    { label: `… its anonymous RSS`, key: "floorgraph.anon", format: MiB },
    {
      label:
        `Deno's floor for wrapp's job (\`_job_floor.ts\`: FFI, Redis, a child with pipes, a file, signals), idle: RSS`,
      key: "jobfloor.rss",
      format: MiB,
    },
    { label: `… its PSS`, key: "jobfloor.pss", format: MiB },
    { label: `… its anonymous RSS`, key: "jobfloor.anon", format: MiB },
    { label: `… its CPU % of one core`, key: "jobfloor.cpu", format: fixed(2) },
    { label: `${k} idle services at once: PSS of all trees`, key: "many.pss", format: MiB },
    { label: `… PSS without the crash watchers`, key: "many.pss-watcher", format: MiB },
    { label: `… RSS of all trees`, key: "many.rss", format: MiB },
    { label: `… CPU % of one core, all trees`, key: "many.cpu", format: fixed(2) },
    { label: `${k} of Deno's idle floors at once: PSS of all`, key: "manyfloor.pss", format: MiB },
    ...options.up.flatMap((n): Row[] => [
      {
        label: `${n} idle services, ours in one \`wrapp up\` (Go: ${n} wrappers): PSS of all`,
        key: `up${n}.pss`,
        format: MiB,
      },
      { label: `… PSS without the crash watcher`, key: `up${n}.pss-watcher`, format: MiB },
      { label: `… RSS of all`, key: `up${n}.rss`, format: MiB },
      { label: `… CPU % of one core, all`, key: `up${n}.cpu`, format: fixed(2) },
    ]),
    {
      label: `spawn → first line readable by XREAD (\`echo hi\`)`,
      key: "start.first",
      format: fixed(0, " ms"),
    },
    {
      label: `… ours with \`[crash] ebpf_backtrace = false\` (no watcher)`,
      key: "start.first",
      ours: "ours-no-watcher",
      format: fixed(0, " ms"),
    },
    {
      label: `spawn → exit of the wrapper of \`echo hi\``,
      key: "start.exit",
      format: fixed(0, " ms"),
    },
    {
      label: `… ours with \`[crash] ebpf_backtrace = false\` (no watcher)`,
      key: "start.exit",
      ours: "ours-no-watcher",
      format: fixed(0, " ms"),
    },
    {
      label: `Deno's floor: spawn → exit of \`deno run\` printing one line`,
      key: "start.floor",
      format: fixed(0, " ms"),
    },
    {
      label: `… when it may import ours (\`deno run\` reads and parses every module first)`,
      key: "start.floorgraph",
      format: fixed(0, " ms"),
    },
    {
      label: `Deno's floor for wrapp's job: spawn → exit, supervising \`echo hi\``,
      key: "start.jobfloor",
      format: fixed(0, " ms"),
    },
  ];
}

/**
 * Whether a "without the crash watcher" row repeats its total for every side: the native
 * watcher runs inside wrapp, so only a bpftrace watcher (the fallback) has pids of its own.
 */
function _sameAsTotal(key: string): boolean {
  const without = figures.get(key);
  const total = figures.get(key.replace(/-watcher$/, ""));
  if (!without || !total) return false;
  return [...without].every(([side, values]) => median(values) === median(total.get(side) ?? []));
}

function table(): string {
  const out = BEFORE
    ? ["| figure | Go wrapp | before | ours | ours ÷ Go |", "| --- | --: | --: | --: | --: |"]
    : ["| figure | Go wrapp | ours | ours ÷ Go |", "| --- | --: | --: | --: |"];
  for (const row of rows()) {
    const values = figures.get(row.key);
    if (!values) continue;
    const go = median(values.get("go") ?? []);
    if (row.ours && !values.has(row.ours)) continue;
    if (row.key.endsWith("-watcher") && _sameAsTotal(row.key)) continue;
    const ours = median(values.get(row.ours ?? "ours") ?? values.get("floor") ?? []);
    const cell = (value: number) => Number.isNaN(value) ? "—" : row.format(value);
    const ratio = Number.isNaN(go) || Number.isNaN(ours) || go === 0
      ? "—"
      : `${(ours / go).toFixed(ours / go >= 10 ? 0 : ours / go >= 1 ? 1 : 2)}×`;
    const before = !BEFORE
      ? ""
      : row.ours
      ? " — |"
      : ` ${cell(median(values.get("before") ?? []))} |`;
    out.push(`| ${row.label} | ${cell(go)} |${before} ${cell(ours)} | ${ratio} |`);
  }
  return out.join("\n");
}

/**
 * The figures that have a target on the robot (the issue "Light on the robot"), ours against
 * each: a markdown table of figure | target | ours | met. A target for other sizes than this
 * run's (`--quick`, `--services 3`…) is listed as not measured, with the option that measures it.
 */
function targets(): string {
  const ours = (key: string) => median(figures.get(key)?.get("ours") ?? []);
  const go = (key: string) => median(figures.get(key)?.get("go") ?? []);
  const out = ["| figure | target | ours | met |", "| --- | --- | --: | --- |"];
  /** `value` NaN: not measured; `met` undefined: no Go figure to compare with. */
  const add = (
    label: string,
    target: string,
    value: number,
    text: string,
    met: boolean | undefined | "reference",
    unless?: string,
  ) => {
    const verdict = unless !== undefined
      ? `not measured: ${unless}`
      : Number.isNaN(value)
      ? "not measured (workload broken or skipped)"
      : met === "reference"
      ? "for reference"
      : met === undefined
      ? "no Go figure"
      : met
      ? "met"
      : "**not met**";
    const shown = unless !== undefined || Number.isNaN(value) ? "—" : text;
    out.push(`| ${label} | ${target} | ${shown} | ${verdict} |`);
  };
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  // Deno's floor for a figure (NaN where this run measured none), and as " (…)" after ours.
  const floor = (key: string) => median(figures.get(key)?.get("floor") ?? []);
  const floorNote = (key: string, text: (value: number) => string) =>
    Number.isNaN(floor(key)) ? "" : ` (${text(floor(key))})`;
  const below = (label: string, key: string, limitMiB: number, unless?: string, note = "") =>
    add(
      label,
      `≤ ${limitMiB} MiB`,
      ours(key),
      mib(ours(key)) + note,
      ours(key) <= limitMiB * 1024,
      unless,
    );
  const cpuEach = (label: string, key: string, services: number, unless?: string) => {
    const each = ours(key) / services;
    add(label, "≤ 0.05 % of a core", each, `${each.toFixed(3)} %`, each <= 0.05, unless);
  };
  const k = options.services;
  const paced = options.rate === 1000 ? undefined : `run with --rate 1000`;
  below(
    "idle service: RSS of the tree",
    "idle.rss",
    35,
    undefined,
    floorNote("floor.rss", (v) =>
      `Deno's floor ${mib(v)}` +
      (Number.isNaN(floor("jobfloor.rss"))
        ? ""
        : `, ${mib(floor("jobfloor.rss"))} for wrapp's job`)),
  );
  cpuEach("idle service: CPU per service", "idle.cpu", 1);
  cpuEach(`${k} separate runs: CPU per service`, "many.cpu", k);
  for (const n of options.up) {
    cpuEach(`${n} in one \`wrapp up\`: CPU per service`, `up${n}.cpu`, n);
  }
  for (const [n, limit] of [[10, 45], [30, 70]]) {
    const unless = options.up.includes(n) ? undefined : `run with --up ${n}`;
    below(`${n} idle services in one \`wrapp up\`: PSS total`, `up${n}.pss`, limit, unless);
  }
  below(
    "10 separate `wrapp run`: PSS total",
    "many.pss",
    200,
    k === 10 ? undefined : "--services 10",
    floorNote("manyfloor.pss", (v) => `${k} Deno floors: ${mib(v)}`),
  );
  below(
    "1000 lines/s: RSS of the tree",
    "paced.rss",
    50,
    paced,
    floorNote("pacedfloor.rss", (v) => `Deno's floor at this rate: ${mib(v)}`),
  );
  // Met only when the separate rounds and the rounds with both at once agree: the first
  // move with the machine's load of their own minutes, the second put each wrapper beside
  // the other's load (ours' CPU rose more than Go's there: 1.18× at once, 1.03× alone).
  const pacedCpu = ours("paced.cpu");
  const goCpu = go("paced.cpu");
  const ratio = ours("together.ratio");
  const separately =
    `${pacedCpu.toFixed(2)} % (Go ${Number.isNaN(goCpu) ? "—" : goCpu.toFixed(2)} %` +
    (Number.isNaN(floor("pacedfloor.cpu"))
      ? ")"
      : `; Deno's floor at this rate: ${floor("pacedfloor.cpu").toFixed(2)} %)`);
  add(
    "1000 lines/s: CPU",
    "≤ Go's",
    pacedCpu,
    Number.isNaN(ratio) ? separately : `${ratio.toFixed(2)}× Go's at once; alone ${separately}`,
    Number.isNaN(goCpu) ? undefined : pacedCpu <= goCpu && !(ratio > 1),
    paced,
  );
  below(
    "`seq 1 1,000,000`: peak RSS of the tree",
    "seq.peak",
    100,
    options.lines === 1_000_000 ? undefined : "run with --lines 1000000",
    floorNote("seqfloor.peak", (v) => `Deno's floor: ${mib(v)}`),
  );
  for (
    const [label, key, limit] of [["start → first line", "start.first", 60], [
      "start → exit",
      "start.exit",
      100,
    ]] as const
  ) {
    const start = floor("start.floor");
    const graph = floor("start.floorgraph");
    const job = floor("start.jobfloor");
    const text = `${ours(key).toFixed(0)} ms` +
      (Number.isNaN(start) ? "" : ` (Deno's floor ${start.toFixed(0)} ms` +
        (Number.isNaN(graph) ? "" : `, ${graph.toFixed(0)} with ours' module graph`) +
        (Number.isNaN(job) ? "" : `, ${job.toFixed(0)} to exit for wrapp's job`) + ")");
    add(label, `≤ ${limit} ms`, ours(key), text, ours(key) <= limit);
  }
  for (const [p, limit] of [[50, 0.5], [99, 2]]) {
    const value = ours(`paced.p${p}`);
    const text = `${value.toFixed(2)} ms` +
      floorNote(`pacedfloor.p${p}`, (v) => `Deno's floor at this rate: ${v.toFixed(2)} ms`);
    add(`latency p${p}`, `≤ ${limit} ms`, value, text, value <= limit, paced);
  }
  const times = ours("seq.rate") / go("seq.rate");
  add(
    "throughput (`seq` lines/s)",
    "≥ 5× Go's",
    ours("seq.rate"),
    Number.isNaN(times) ? "—" : `${times.toFixed(1)}× Go's`,
    Number.isNaN(times) ? undefined : times >= 5,
  );
  // ours' seq rate against a redis-benchmark ceiling, as "0.32× (908,810 XADD/s)".
  const share = (key: string) => {
    const ceiling = median(figures.get(key)?.get("floor") ?? []);
    const value = ours("seq.rate") / ceiling;
    return {
      value,
      text: `${value.toFixed(2)}× (${Math.round(ceiling).toLocaleString("en-US")} XADD/s)`,
    };
  };
  const oneField = share("redis-benchmark.rate");
  add(
    "throughput against `redis-benchmark -P 1000` XADD, same server",
    "≥ 0.6×",
    oneField.value,
    oneField.text,
    oneField.value >= 0.6,
  );
  // What the server itself can take of the entries ours writes, beside it.
  const entry = share("redis-benchmark.entry-rate");
  add(
    "… against the same for ours' entry (MAXLEN, six fields)",
    "(the server's own limit)",
    entry.value,
    entry.text,
    "reference",
  );
  // CPU is counted in 100 Hz ticks: one tick over the idle window is the finest step.
  out.push(
    "",
    `CPU over a ${options.idleSeconds} s idle window moves in steps of ${
      (100 / (CLK_TCK * options.idleSeconds)).toFixed(3)
    } % (one clock tick): per-service figures below that step are not resolved.`,
  );
  return out.join("\n");
}

function method(commit: string): string {
  return [
    `Method (bench/vs_go_wrapp.ts${
      commit ? ` at ${commit}` : ""
    }, ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ` +
    `uid ${Deno.uid()}): medians of ${options.n} runs per figure (start-up: ${
      Math.max(5, options.n)
    }), ` +
    `the two wrappers alternated in each round, one redis-server (--save "" --appendonly no) for all.`,
    `- Go: \`wrapp-go-toml cfg.toml\`; ours: \`deno run -A ${V8_FLAG} ${LAZY_IMPORTS} ${
      NO_CONFIG.map((flag) => `${flag} `).join("")
    }${
      options.entry ?? "main.ts"
    } run cfg.toml\` (not compiled; the flags the binary bakes in, and imports loaded as ` +
    `they run, as in the binary), the ` +
    `same [redis] host/port and [app] executable/args/user/stream_name; ours without \`password = ""\` ` +
    `(it refuses an empty password) and with its disk spool in a temporary folder; every other key ` +
    `at its default (so ours echoes lines to its stdout, here /dev/null, and ${
      options.noWatcher
        ? "with `--no-watcher` runs no crash watcher: `[crash] ebpf_backtrace = false`"
        : "runs its crash watcher when root: its own eBPF programs, bpftrace where they cannot load"
    }). Each run uses its own stream, capped by both at MAXLEN ~ 1000.` +
    (BEFORE
      ? ` "before": \`deno run -A ${V8_FLAG} ${LAZY_IMPORTS} ${options.beforeDir}/main.ts run cfg.toml\`, the same config, in the same rounds.`
      : ""),
    `- The tree: the wrapper's pid and its descendants (from /proc), except the service and what ` +
    `runs under it; bpftrace processes are the fallback crash watcher. RSS/PSS: VmRSS and smaps_rollup Pss ` +
    `(anonymous: RssAnon, the pages no file backs) ` +
    `summed over the tree, mean of samples every 2 s; CPU %: utime+stime of the tree over the window.`,
    `- seq: lines/s = lines ÷ (spawn → the entry \`${options.lines}\` readable, polled every 20 ms). ` +
    `Every line is counted with XINFO STREAM entries-added (all entries ever added, trimmed or not) ` +
    `minus the run markers each wrapper adds to one \`echo hi\`. CPU seconds: /usr/bin/time around ` +
    `the wrapper (it and every child it reaped) minus /usr/bin/time around seq as the service. Peak ` +
    `RSS: each tree process's VmHWM (read every 200 ms), summed.`,
    `- The server's XADD ceiling: \`redis-benchmark -P 1000 -n ${options.lines} -q XADD <key> * message ${options.lines}\` ` +
    `(its default 50 connections) against the same redis-server after each seq round; the throughput ` +
    `target compares ours' seq lines/s with it. Beside it, the same for an entry of ours' shape ` +
    `(\`XADD <key> MAXLEN ~ 1000 * message <n> ts <ms> run <uuid> pid <pid> host <host> seq <n>\`): ` +
    `what the server can take of the entries ours writes.`,
    `- Deno's start-up floor: spawn → exit of \`deno run -A ${V8_FLAG}\` of a script printing one ` +
    `line, once per start-up round: what any Deno program pays before its first instruction; ` +
    `beside it, the same script with an \`import()\` of ours it does not take, for which \`deno run\` ` +
    `reads and parses every module ours may load (a compiled binary does not).`,
    `- Deno's floor for wrapp's job: \`deno run -A ${V8_FLAG}\` of bench/_job_floor.ts, which opens ` +
    `wrapp's FFI calls (crash watcher, ledger) with wrapp's own modules, connects to Redis, writes ` +
    `a file, starts the service with piped output, forwards signals and XADDs each line: the ` +
    `runtime's price for those features, none of wrapp's own work. Start-up: spawn → exit ` +
    `supervising \`echo hi\` (its line checked in Redis); idle: supervising \`sleep 3600\`, ` +
    `measured as the wrappers.`,
    `- Deno's floor for lines: \`deno run -A ${V8_FLAG}\` of bench/_lines_floor.ts, which starts the ` +
    `service (seq, or the paced printer) and, for every read of its stdout, XADDs each line (one ` +
    `field) on one connection and reads the replies before reading again: no spool, ledger, trace ` +
    `or crash watcher. seq: lines/s from spawn to exit, peak RSS by /usr/bin/time; paced: the ` +
    `same window as the wrappers', with its print → XREAD latency read as theirs. Checked to ` +
    `deliver every line (seq) or 90 % of the window's.`,
    `- Paced: a Python printer (the service) writes \`lat <i> <µs>\` ${options.rate} times a second; ` +
    `the window starts ${
      SETTLE_MS / 1000
    } s after spawn and lasts ${options.pacedSeconds} s; a reader ` +
    `(a python3 process of its own, bench/_latency_reader.ts) follows the stream with XREAD BLOCK ` +
    `and subtracts the printed CLOCK_REALTIME from its own, over the lines printed in the window. ` +
    `Then the same with every side at once (one window, each with its own printer and stream), ` +
    `whose ours ÷ Go's CPU (the median of the rounds' ratios) must be ≤ 1 too for the CPU target ` +
    `to be met.`,
    `- Idle: \`sleep 3600\`; the window starts once each tree has used under 5% of a core for 1 s ` +
    `(at least 3 s after spawn) and lasts ${options.idleSeconds} s. The floor is \`deno run -A\` of a ` +
    `script awaiting a one-hour timer, measured the same way (alone, and ${options.services} at once).` +
    (options.up.length
      ? ` Up (${
        options.up.join(", ")
      } services): ours \`up DIR\` of as many configs (one process, one crash watcher), ` +
        `the Go wrapp as many separate wrappers (it has no \`up\`), measured as the idle ones; ` +
        `stopped by SIGTERM to every service.`
      : ""),
    `- Start-up: spawn → \`hi\` read by a blocking XREAD from 0, and spawn → the wrapper's exit; ` +
    `also ours with its crash watcher off. Run markers per run in \`:info\`: ${
      [...overhead].map(([id, count]) => `${id} ${count}`).join(", ")
    }.`,
  ].join("\n");
}

// ---- the run ----

async function commitOf(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  })
    .output().catch(() => undefined);
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : "";
}

try {
  if (!goPresent) {
    progress(
      `The Go wrapp is not at ${goBinary} (use --go DIR or WRAPP_GO_PEER_DIR): measuring ours alone.`,
    );
  } else {
    progress(`Go wrapp: ${goBinary}`);
  }
  // Warm-up (Deno's module cache, the page cache) and the run markers of each side.
  const startSides = OURS_NO_WATCHER ? [...sides, OURS_NO_WATCHER] : sides;
  for (const side of startSides) await startUp(side, `${side.id}-warm`, false);

  const n = options.n;
  for (let rep = 0; rep < Math.max(5, n); rep++) {
    for (const side of rep % 2 ? [...startSides].reverse() : startSides) {
      await attempt(
        `start-up ${rep + 1} ${side.id}`,
        () => startUp(side, `${side.id}-start-${rep}`),
      );
    }
    await attempt(`start-up floor ${rep + 1}`, () => startFloorRun());
    await attempt(`start-up floor ${rep + 1} (graph)`, () => startFloorRun("start.floorgraph"));
    await attempt(`start-up job floor ${rep + 1}`, () => startJobFloorRun(rep));
  }
  for (let rep = 0; rep < n; rep++) {
    for (const side of order(rep)) {
      await attempt(`seq ${rep + 1} ${side.id}`, () => seqRun(side, rep));
    }
    await attempt(`seq floor ${rep + 1}`, () => seqFloorRun(rep));
    await attempt(`redis-benchmark ${rep + 1}`, () => redisBenchmarkRun(rep));
  }
  for (let rep = 0; rep < n; rep++) {
    for (const side of order(rep)) {
      await attempt(`paced ${rep + 1} ${side.id}`, () => pacedRun(side, rep));
    }
    await attempt(`paced floor ${rep + 1}`, () => pacedFloorRun(rep));
  }
  for (let rep = 0; goPresent && rep < n; rep++) {
    await attempt(`together ${rep + 1}`, () => pacedTogetherRun(rep));
  }
  for (let rep = 0; rep < n; rep++) {
    for (const side of order(rep)) {
      await attempt(`idle ${rep + 1} ${side.id}`, () => idleRun(side, rep, 1));
    }
    await attempt(`floor ${rep + 1}`, () => floorRun(rep));
    await attempt(`floor ${rep + 1} (graph)`, () => floorRun(rep, "floorgraph"));
    await attempt(`job floor ${rep + 1}`, () => floorRun(rep, "jobfloor"));
  }
  for (let rep = 0; rep < n; rep++) {
    for (const side of order(rep)) {
      await attempt(
        `${options.services} idle ${rep + 1} ${side.id}`,
        () => idleRun(side, rep, options.services),
      );
    }
    await attempt(
      `${options.services} floors ${rep + 1}`,
      () => manyFloorRun(rep, options.services),
    );
  }
  for (let rep = 0; rep < n; rep++) {
    for (const count of options.up) {
      for (const side of order(rep)) {
        await attempt(
          `${count} idle in one up ${rep + 1} ${side.id}`,
          () => upRun(side, rep, count),
        );
      }
    }
  }

  const commit = await commitOf();
  console.log(
    `\n## wrapp vs the Go wrapp — ${new Date().toISOString().slice(0, 10)}${
      commit ? `, commit ${commit}` : ""
    }\n`,
  );
  if (!goPresent) console.log(`(The Go wrapp was absent (${goBinary}): ours alone.)\n`);
  console.log(table());
  console.log(`\n### Against the robot's targets\n\n${targets()}`);
  console.log(`\n${method(commit)}`);
  if (broken.length) {
    console.log(`\nBroken workloads:\n${broken.map((text) => `- ${text}`).join("\n")}`);
    Deno.exitCode = 1;
  }
} finally {
  await cleanUp();
}
