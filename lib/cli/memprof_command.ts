/**
 * `wrapp memprof`: page-level memory profile of one process per call stack, served as
 * TezEdge's memory-profiler API and a browser page, exported at the end as a tree,
 * collapsed stacks and counters.
 *
 * @module
 */

import { parseFlags, splitAtCommand } from "./parse_flags.ts";
import { type DebugLog, stderrDebug } from "../core/debug.ts";
import { UsageError } from "../core/errors.ts";
import { parseDurationFlag } from "../core/parse_duration.ts";
import { stderrNotice } from "./notice.ts";
import { SignalWatch } from "./signal_watch.ts";
import { topAllocationSites } from "../features/memprof/call_tree.ts";
import { DEFAULT_PORT, parseListen } from "../features/memprof/http_server.ts";
import {
  DEFAULT_MAX_PAGES,
  type MemprofSession,
  type MemprofSnapshot,
} from "../features/memprof/memprof_session.ts";
import { MemprofRun, prepareMemprof } from "../features/memprof/memprof_run.ts";
import { shortCommand } from "../features/memprof/memprof_outputs.ts";
import { frameLabel } from "../core/symbols/symbolizer.ts";
import { DEFAULT_THRESHOLD_KB } from "../features/memprof/tezedge_json.ts";
import type { Router } from "../pipeline/router.ts";
import { openPipeline } from "../pipeline/open_pipeline.ts";
import { STREAM_NAME_PATTERN } from "../core/config/load_config.ts";

/** `wrapp memprof --help`. */
export const MEMPROF_HELP = `Usage: sudo wrapp memprof [options] --pid PID
       sudo wrapp memprof [options] [--] COMMAND [ARGS...]

Profile the physical memory of one process per call stack: every page it allocates and
every page it brings into the page cache is counted under the user call stack that
caused it, and taken out again when it is freed. The result is live memory (resident
and page cache, in kB) per function, not a history. bpftrace runs bpf/memprof.bt, which
keeps the counts in the kernel, so the program runs at nearly full speed.

While it runs, http://127.0.0.1:${DEFAULT_PORT}/ shows a flame graph and a call tree of
live memory, updating every second, with search and a threshold; the same data is
served as TezEdge's memory-profiler API (GET /v1/tree?reverse=false&threshold=256,
GET /v1/pid), plus /v1/status and /v1/folded. Everything is served by wrapp itself: it
works offline.

With --pid, wrapp attaches to a running process and stops when it exits or on Ctrl-C
(memory allocated before attaching cannot be attributed: the page says how much). With a
COMMAND, wrapp starts it held before its first instruction, attaches, lets it run (stdin,
stdout and stderr are the terminal's) and exits with its exit code.

One process is profiled (all its threads), not the processes it starts. When it exits,
the counts stop just before its exit freed its memory: the last tree shows what it held.

Options:
  -p, --pid PID          profile this running process
      --listen ADDR      serve the page and the API on ADDR: PORT or HOST:PORT (default
                         127.0.0.1:${DEFAULT_PORT}; port 0 picks a free one)
      --no-server        do not serve anything
      --keep-serving     after the process exits (or --duration ends), keep serving the
                         final profile until Ctrl-C
      --allow-origin O   send "Access-Control-Allow-Origin: O" with the API answers (for
                         a front end served elsewhere, e.g. TezEdge's explorer)
  -o, --out FILE         at the end, write the call tree as TezEdge JSON (with
                         --threshold and --reverse)
      --folded FILE      at the end, write collapsed stacks (kB), which flamegraph.pl and
                         speedscope read
      --tef FILE         at the end, write resident, page-cache and RSS kB over time as
                         Perfetto counters (open in https://ui.perfetto.dev)
      --redis URL        also send snapshots to logs:app:<name>:trace: resident/cache/RSS
                         counters and a "memprof top" event with the top 10 allocation
                         sites (redis://[user:pw@]host:port, rediss:// for TLS; spooled on
                         disk while Redis is down)
      --redis-every TIME how often a snapshot goes to Redis (default 10s; the final one
                         always goes)
      --redis-password-file FILE  Redis password (else the URL's, else $WRAPP_REDIS_PASSWORD)
      --name NAME        service name in the Redis keys (default: the command's base name,
                         or pid-<N> with --pid)
      --threshold KB     for --out: fold children smaller than KB kB (default ${DEFAULT_THRESHOLD_KB})
      --reverse          for --out: callers under each allocating function
      --interval TIME    how often bpftrace reports the counts, in whole seconds (default 1s)
      --duration TIME    stop profiling after TIME (e.g. 30s, 5m); a launched command keeps
                         running, and wrapp waits for it
      --max-pages N      page allocations tracked at once (default ${DEFAULT_MAX_PAGES}: 1 GiB of
                         4 kB pages; a huge page counts once); beyond it pages are counted
                         as lost. bpftrace preallocates its maps: about 270 bytes (+8 per
                         CPU) of kernel memory per page, plus 70 MB for its stack table
      --all-pages        also count kernel pages allocated for the process (page tables,
                         slab), which RSS does not include
      --bpftrace PATH    bpftrace binary (default: $WRAPP_BPFTRACE, else bpftrace in PATH)
      --debug            debug lines on stderr (also WRAPP_DEBUG=1)
  -h, --help             show this help

Stacks are unwound by frame pointers: build your program with -fno-omit-frame-pointer
(Rust: RUSTFLAGS="-C force-frame-pointers=yes"), or stacks stop after a frame or two. A
function that touches memory only through a leaf without a frame (memset, memcpy, a
libc syscall wrapper) is shown under that leaf and its caller's caller. Function names
come from the files' .symtab/.dynsym (and /usr/lib/debug/.build-id/ debug files) and
are demangled with c++filt (binutils) when it is installed.

Examples:
  sudo wrapp memprof -- ./my-app --port 8080          # then open http://127.0.0.1:${DEFAULT_PORT}/
  sudo wrapp memprof --pid 4242 --duration 1m --out tree.json --folded app.folded
  sudo wrapp memprof --listen 127.0.0.1:0 --tef memory.json -- python3 train.py
  sudo wrapp memprof --no-server --redis redis://127.0.0.1:6379 --name robot --pid 4242
  flamegraph.pl --countname kB app.folded > app.svg

Exit codes: the command's own (or 128+signal) when wrapp started it; 0 after --pid;
2 for a bad command line; 69 when bpftrace, tracefs or a tracepoint is missing; 74 when
an output file cannot be written; 77 without root; 127 when the command cannot be started.`;

/** What {@linkcode memprofCommand} needs from the CLI. */
export interface MemprofCommandContext {
  /** Print to stdout (the summary). */
  print(text: string): void;
  /** Debug logger (silent unless --debug / WRAPP_DEBUG). */
  debug: (message: string) => void;
  /** A notice on stderr (where the page is, warnings). Default: write to `Deno.stderr`. */
  notice?: (text: string) => void;
  /** Stop like Ctrl-C when this aborts (tests, embedding). */
  signal?: AbortSignal;
}

/** `wrapp memprof` arguments, parsed (see {@linkcode MEMPROF_HELP} for each option). */
export interface MemprofArgs {
  /** `--help`. */
  help: boolean;
  /** `--pid`: attach to this process. */
  pid?: number;
  /** The command to launch (after `--` or the options). */
  command?: string[];
  /** `--listen`; `undefined` with `--no-server`. */
  listen?: { hostname: string; port: number };
  /** `--keep-serving`. */
  keepServing: boolean;
  /** `--allow-origin`. */
  allowOrigin?: string;
  /** `--out` file. */
  out?: string;
  /** `--folded` file. */
  folded?: string;
  /** `--tef` file. */
  tef?: string;
  /** `--threshold`, kB. Default 256. */
  threshold: number;
  /** `--reverse`. */
  reverse: boolean;
  /** `--interval`, ms (whole seconds). Default 1000. */
  intervalMs: number;
  /** `--duration`, ms. */
  durationMs?: number;
  /** `--max-pages`. Default 262144. */
  maxPages: number;
  /** `--all-pages`. */
  allPages: boolean;
  /** `--redis URL`: also send snapshots to Redis. */
  redis?: string;
  /** `--redis-every`, ms. Default 10000. */
  redisEveryMs: number;
  /** `--redis-password-file FILE`. */
  redisPasswordFile?: string;
  /** `--name NAME`: the service name in the Redis keys. */
  name?: string;
  /** `--bpftrace`. */
  bpftrace?: string;
  /** `--debug`. */
  debug: boolean;
}

const _OPTIONS = {
  pid: { type: "string", short: "p" },
  listen: { type: "string" },
  "no-server": { type: "boolean" },
  "keep-serving": { type: "boolean" },
  "allow-origin": { type: "string" },
  out: { type: "string", short: "o" },
  folded: { type: "string" },
  tef: { type: "string" },
  threshold: { type: "string" },
  reverse: { type: "boolean" },
  interval: { type: "string" },
  duration: { type: "string" },
  "max-pages": { type: "string" },
  "all-pages": { type: "boolean" },
  redis: { type: "string" },
  "redis-every": { type: "string" },
  "redis-password-file": { type: "string" },
  name: { type: "string" },
  bpftrace: { type: "string" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parse `wrapp memprof` arguments. Options come first; the command starts at `--` or at
 * the first argument that is not an option or an option's value. Throws
 * {@linkcode UsageError} on anything wrong.
 */
export function parseMemprofArgs(args: readonly string[]): MemprofArgs {
  const split = splitAtCommand(args, _OPTIONS);
  const { values } = parseFlags("memprof", split.flags, _OPTIONS, 0);
  const command = split.command;
  const parsed: MemprofArgs = {
    help: values.help === true,
    keepServing: values["keep-serving"] === true,
    allowOrigin: values["allow-origin"],
    out: values.out,
    folded: values.folded,
    tef: values.tef,
    threshold: DEFAULT_THRESHOLD_KB,
    reverse: values.reverse === true,
    intervalMs: 1000,
    maxPages: DEFAULT_MAX_PAGES,
    allPages: values["all-pages"] === true,
    redis: values.redis,
    redisEveryMs: 10_000,
    redisPasswordFile: values["redis-password-file"],
    name: values.name,
    bpftrace: values.bpftrace,
    debug: values.debug === true,
  };
  if (parsed.help) return parsed;
  if (values.pid !== undefined) {
    if (!/^\d+$/.test(values.pid) || Number(values.pid) <= 0) {
      throw new UsageError(`Invalid --pid "${values.pid}": expected a process id such as 4242`);
    }
    parsed.pid = Number(values.pid);
  }
  if (command !== undefined && command.length > 0) parsed.command = command;
  if (parsed.pid !== undefined && parsed.command) {
    throw new UsageError(
      `Give either --pid or a command to "wrapp memprof", not both (got --pid ${parsed.pid} and "${
        parsed.command[0]
      }")`,
    );
  }
  if (parsed.pid === undefined && !parsed.command) {
    throw new UsageError(
      'Nothing to profile: usage "wrapp memprof --pid PID" or "wrapp memprof -- COMMAND [ARGS...]"',
    );
  }
  if (values["no-server"] && values.listen !== undefined) {
    throw new UsageError('Give either --listen or --no-server to "wrapp memprof", not both');
  }
  if (values["no-server"] && parsed.keepServing) {
    throw new UsageError('"--keep-serving" needs the server: drop "--no-server"');
  }
  if (!values["no-server"]) {
    parsed.listen = parseListen(values.listen ?? `127.0.0.1:${DEFAULT_PORT}`);
  }
  parsed.threshold = _count("--threshold", values.threshold, 0) ?? parsed.threshold;
  parsed.maxPages = _count("--max-pages", values["max-pages"], 1024) ?? parsed.maxPages;
  const interval = parseDurationFlag("--interval", values.interval, 1e9);
  if (interval !== undefined) parsed.intervalMs = Math.round(interval / 1e9) * 1000;
  const duration = parseDurationFlag("--duration", values.duration, 1e6);
  if (duration !== undefined) parsed.durationMs = duration / 1e6;
  const redisOnly = ["redis-every", "redis-password-file", "name"] as const;
  const stray = redisOnly.find((flag) => values[flag] !== undefined);
  if (stray && parsed.redis === undefined) {
    throw new UsageError(`"--${stray}" needs "--redis URL"`);
  }
  const every = parseDurationFlag("--redis-every", values["redis-every"], 1e9);
  if (every !== undefined) parsed.redisEveryMs = every / 1e6;
  if (parsed.name !== undefined && !STREAM_NAME_PATTERN.test(parsed.name)) {
    throw new UsageError(`Invalid --name "${parsed.name}": use letters, digits, "_", "." and "-"`);
  }
  return parsed;
}

function _count(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new UsageError(`Invalid ${flag} "${text}": expected a whole number of at least ${min}`);
  }
  return Number(text);
}

/**
 * Run `wrapp memprof ARGS…`; resolves to the exit code. Throws {@linkcode UsageError}
 * (2), `PrivilegeError` (77), `SidecarError` (69), `SpawnError` (127), `SinkError` (74),
 * or `WrappError` when the address to listen on is taken.
 */
export async function memprofCommand(
  args: readonly string[],
  context: MemprofCommandContext,
): Promise<number> {
  const options = parseMemprofArgs(args);
  if (options.help) {
    context.print(MEMPROF_HELP);
    return 0;
  }
  const debug: DebugLog = options.debug ? stderrDebug() : context.debug;
  const notice = context.notice ?? stderrNotice;
  const bpftrace = await prepareMemprof({ ...options, debug });

  let redisRouter: Router | undefined;
  const stream = options.name ??
    (options.command ? _streamName(options.command.join(" ")) : `pid-${options.pid}`);
  if (options.redis !== undefined) {
    const fromFlags = {
      url: options.redis,
      passwordFile: options.redisPasswordFile,
      streamName: stream,
      env: (variable: string) => Deno.env.get(variable),
      log: (message: string) => notice(`wrapp memprof: ${message}`),
      debug,
    };
    redisRouter = (await openPipeline({ redis: { fromFlags }, debug })).router;
  }

  const run = new MemprofRun({
    pid: options.pid,
    command: options.command,
    bpftrace,
    listen: options.listen,
    allowOrigin: options.allowOrigin,
    keepServing: options.keepServing,
    intervalMs: options.intervalMs,
    maxPages: options.maxPages,
    allPages: options.allPages,
    durationMs: options.durationMs,
    outputs: options,
    ...(redisRouter
      ? { redis: { router: redisRouter, stream, everyMs: options.redisEveryMs } }
      : {}),
    notice,
    debug,
    watchSignals: (forward) => new SignalWatch(context.signal, forward),
  });
  try {
    const { session, final } = await run.profile();
    context.print(_summary(session, final, options));
    await run.keepServing();
    return await run.exitCode();
  } finally {
    await run.close();
    // After the final snapshot: closing flushes it (or leaves it in the spool).
    await redisRouter?.close().catch(() => {});
  }
}

function _summary(session: MemprofSession, final: MemprofSnapshot, options: MemprofArgs): string {
  const status = session.status();
  const lines = [
    `wrapp memprof: pid ${session.pid} (${shortCommand(status.command)}), profiled ${
      (status.elapsedMs / 1000).toFixed(1)
    } s: ${_kb(final.residentKb)} resident + ${
      _kb(final.cacheKb)
    } page cache attributed to ${final.stacks.length} stacks`,
  ];
  const facts: string[] = [];
  if (status.process) facts.push(`process RSS ${_kb(status.process.rssKb)}`);
  if (status.atAttach && options.pid !== undefined) {
    facts.push(`${_kb(status.atAttach.rssKb)} resident before attaching`);
  }
  facts.push(`${status.lost.pages} pages and ${status.lost.events} events lost`);
  if (status.frozen) facts.push("counted until the process began exiting");
  lines.push(`  ${facts.join("; ")}`);
  if (status.lost.pages > 0) lines.push("  raise --max-pages to track every page");
  const sites = topAllocationSites(final.stacks, 10);
  if (sites.length > 0) {
    lines.push("  top allocation sites:");
    for (const site of sites) {
      const name = frameLabel(site.frame) +
        (site.ownFrame ? ` ← ${frameLabel(site.ownFrame)}` : "");
      const cache = site.cacheKb > 0 ? `, ${_kb(site.cacheKb)} page cache` : "";
      lines.push(
        `  ${
          _kb(site.residentKb + site.cacheKb).padStart(10)
        }  ${name}  (${site.frame.executable})${cache}`,
      );
    }
  }
  const total = final.residentKb + final.cacheKb;
  if (total > 0 && status.shallowKb / total > 0.2) {
    lines.push(
      "  most stacks have 2 frames or fewer: build with -fno-omit-frame-pointer for full stacks",
    );
  }
  return lines.join("\n");
}

function _kb(kb: number): string {
  if (kb >= 1048576) return `${(kb / 1048576).toFixed(2)} GiB`;
  if (kb >= 1024) return `${(kb / 1024).toFixed(1)} MiB`;
  return `${kb} kB`;
}

/** A stream name from a command line: its program's base name, safe for Redis keys. */
function _streamName(command: string): string {
  const program = command.split(" ")[0].split("/").pop() ?? "memprof";
  return program.replace(/[^A-Za-z0-9_.-]/g, "_") || "memprof";
}
