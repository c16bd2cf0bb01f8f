/**
 * `wrapp serve`, `wrapp list`, `wrapp get-tef` and `wrapp clear`: the tldrs-compatible
 * trace collector and the commands that read what it collected.
 *
 * Each command takes its arguments (after the command name) and a context, and resolves
 * to the exit code; errors the user can act on are thrown as `WrappError`s (`UsageError`,
 * exit 2, for a bad command line).
 *
 * @module
 */

import { resolve } from "node:path";
import { stderrDebug } from "../core/debug.ts";
import { parseFlags } from "./parse_flags.ts";
import { describeCause, UsageError, WrappError } from "../core/errors.ts";
import { defaultSocketPath, defaultTraceDir, type EnvLookup } from "../features/collector/paths.ts";
import {
  clearTraces,
  findTrace,
  listTraces,
  type TraceInfo,
} from "../features/collector/trace_store.ts";
import { quoteTraceId } from "../features/collector/trace_id.ts";
import { assembleTrace } from "../pipeline/tef/assemble_trace.ts";
import { openPipeline } from "../pipeline/open_pipeline.ts";
import {
  type CollectedEvent,
  CollectorServer,
  formatCollectorStats,
} from "../features/collector/collector_socket.ts";

/** What the collector commands need from their environment. */
export interface CollectorCommandContext {
  /** Print a line on stdout. */
  print(text: string): void;
  /** Debug logger (`--debug` replaces it with one writing to stderr). */
  debug: (message: string) => void;
  /** Operator messages, one line each. Default: stderr. */
  log?: (message: string) => void;
  /** Environment lookup for the defaults. Default: `Deno.env.get`. */
  env?: EnvLookup;
  /** `serve`: stop (like SIGTERM) when this signal aborts. */
  signal?: AbortSignal;
  /** `serve`: called once the socket is listening. */
  onListening?: (server: CollectorServer) => void;
  /** `serve`: more sinks for every accepted event (the Redis hook); see {@linkcode CollectorServer}. */
  onEvent?: (event: CollectedEvent) => void;
}

/** `wrapp serve --help`. */
export const SERVE_HELP =
  `Usage: wrapp serve [--socket PATH] [--dir DIR] [--max-line-bytes N] [--debug]

Collect Trace Event Format (TEF) events from many processes over a unix socket. wrapp
speaks the protocol of tldrs (the Trace and Log Daemon in Rust), so programs that already
use it — e.g. the OCaml "trace" library's tldrs backend — work with wrapp unchanged. Every
process that opens the same trace id appends to <DIR>/<trace-id>.jsonl, one event per
line, never interleaved; "wrapp get-tef" turns it into a trace.json for ui.perfetto.dev.

Protocol: one message per line; the daemon never answers, it reports problems on stderr.
  OPEN <trace-id>               first: the trace to append to. Refused: ids with "/", "\\",
                                control characters, a leading "." or "-", over 200 bytes
  {"ph":"X",...}                one TEF event: a JSON object Perfetto can import
  EMIT_TEF <abs path>           write the trace so far to that file, right away
  EMIT_TEF_AT_EXIT <abs path>   write it there when the trace's last client disconnects
                                (or when the daemon stops first)
  DIE                           flush everything, remove the socket, exit 0
  DIE_WHEN_IDLE                 the same, as soon as no client is connected

A line that is not valid UTF-8, longer than --max-line-bytes, not JSON, not an event
Perfetto imports, or an event before OPEN is counted and logged (the first 10 per
connection), and the connection goes on. Events are on disk within a few milliseconds.

Options:
      --socket PATH         unix socket, created owner-only (0600). Default:
                            $TRACE_TEF_TLDR_SOCKET, else $TMPDIR/tldrs.socket, else
                            /tmp/tldrs.socket. A stale socket left by a dead daemon is
                            replaced; a live daemon is never taken over.
  -d, --dir DIR             trace folder, created 0700 when missing. Default:
                            $XDG_DATA_HOME/tldrs, else ~/.local/share/tldrs
      --max-line-bytes N    longest line accepted, in bytes (default 1048576)
      --redis URL           also stream every event to Redis (redis://[user:pw@]host:port
                            or rediss:// for TLS), as entries of logs:app:<trace-id>:trace
                            in DB 1; queued in memory and a disk spool while Redis is down
      --redis-password-file FILE   Redis password (else the URL's, else
                            $WRAPP_REDIS_PASSWORD)
      --redis-spool DIR     spool folder (default $XDG_STATE_HOME/wrapp/serve/spool;
                            /var/lib/wrapp/serve/spool as root)
      --debug               debug lines on stderr
  -h, --help                show this help

SIGTERM and SIGINT stop it like DIE. Exit status 0 after a stop; 1 when the socket is
taken; 2 for a bad command line; 74 when the trace folder is not writable.

Examples:
  wrapp serve --dir ~/traces &
  printf 'OPEN demo\\n{"ph":"i","name":"hello","ts":0,"pid":1,"tid":1,"s":"t"}\\n' |
    socat - UNIX-CONNECT:/tmp/tldrs.socket
  wrapp get-tef demo --dir ~/traces -o demo.json
  python3 examples/tldrs_client.py --children 2 --emit "$PWD/trace.json"
  echo DIE | socat - UNIX-CONNECT:/tmp/tldrs.socket

As a systemd user service: examples/wrapp-serve.service.`;

/** `wrapp list --help`. */
export const LIST_HELP = `Usage: wrapp list [--dir DIR]

List the traces "wrapp serve" (or tldrs) recorded: trace id, events, size and last
change, oldest first, so the newest is printed last.

Options:
  -d, --dir DIR   trace folder (default: $XDG_DATA_HOME/tldrs, else ~/.local/share/tldrs)
  -h, --help      show this help

Example:
  wrapp list
  wrapp list --dir ~/traces`;

/** `wrapp get-tef --help`. */
export const GET_TEF_HELP = `Usage: wrapp get-tef <trace-id | path | latest> [-o FILE] [--dir DIR]

Assemble a recorded trace into an array-form trace.json that https://ui.perfetto.dev
opens. The file is never empty or invalid: it is written to a temporary file and renamed
into place, unreadable lines are skipped (and counted), and a trace without events still
holds one metadata event.

Which trace:
  latest          the most recently modified trace in the folder
  a path          an argument with a "/" or ending in ".jsonl" is read as a file
  a trace id      anything else: <DIR>/<trace-id>.jsonl (for a trace whose id is
                  "latest", give its path)

Options:
  -o, --out FILE  where to write; "-" for stdout. Without -o the trace goes to stdout
                  unless stdout is a terminal
  -d, --dir DIR   trace folder (default: $XDG_DATA_HOME/tldrs, else ~/.local/share/tldrs)
  -h, --help      show this help

Examples:
  wrapp get-tef latest -o trace.json
  wrapp get-tef tr-1718000000-5f0c2a9e -o /tmp/build.json
  wrapp get-tef ~/.local/share/tldrs/demo.jsonl | gzip > demo.json.gz`;

/** `wrapp clear --help`. */
export const CLEAR_HELP = `Usage: wrapp clear [--dir DIR]

Delete every recorded trace (the *.jsonl files, nothing else) in the trace folder, without
asking, and say how many. A trace still being written starts again in a new file.

Options:
  -d, --dir DIR   trace folder (default: $XDG_DATA_HOME/tldrs, else ~/.local/share/tldrs)
  -h, --help      show this help

Example:
  wrapp clear --dir ~/traces`;

const _DIR_OPTION = { type: "string", short: "d" } as const;
const _HELP_OPTION = { type: "boolean", short: "h" } as const;
const _MIN_LINE_BYTES = 256;
const _MAX_LINE_BYTES = 64 << 20;

/** `wrapp serve`: run the collector until DIE, DIE_WHEN_IDLE, SIGTERM or SIGINT; exit code 0. */
export async function serveCommand(
  args: readonly string[],
  context: CollectorCommandContext,
): Promise<number> {
  const { values } = parseFlags("serve", args, {
    socket: { type: "string" },
    dir: _DIR_OPTION,
    "max-line-bytes": { type: "string" },
    redis: { type: "string" },
    "redis-password-file": { type: "string" },
    "redis-spool": { type: "string" },
    debug: { type: "boolean" },
    help: _HELP_OPTION,
  }, 0);
  if (values.help) {
    context.print(SERVE_HELP);
    return 0;
  }
  const env = context.env ?? ((name: string) => Deno.env.get(name));
  const log = context.log ?? _stderrLine;
  const debug = values.debug ? stderrDebug() : context.debug;
  const maxLineBytes = _parseLineBytes(values["max-line-bytes"]);
  const socketPath = resolve(_nonEmpty("--socket", values.socket) ?? defaultSocketPath(env));
  const dir = resolve(_nonEmpty("--dir", values.dir) ?? defaultTraceDir(env));

  // Every collected event also goes to logs:app:<trace-id>:trace, through the spooled sink.
  const router = values.redis === undefined ? undefined : (await openPipeline({
    redis: {
      fromFlags: {
        url: values.redis,
        passwordFile: values["redis-password-file"],
        spoolDir: values["redis-spool"],
        streamName: "serve",
        env,
        log: (message) => log(`wrapp serve: ${message}`),
        debug,
      },
    },
    debug,
  })).router;
  const onEvent = router
    ? (event: CollectedEvent) => {
      router.emit({
        kind: "tef",
        time: event.time,
        stream: event.traceId,
        event: event.event,
        json: event.text,
      });
      context.onEvent?.(event);
    }
    : context.onEvent;

  const server = await CollectorServer.listen({
    socketPath,
    dir,
    maxLineBytes,
    onEvent,
    log: (message) => log(`wrapp serve: ${message}`),
    debug,
  });
  log(`wrapp serve: listening on "${server.socketPath}", writing traces to "${server.dir}"`);
  context.onListening?.(server);

  const handlers: Array<[Deno.Signal, () => void]> = (["SIGTERM", "SIGINT"] as const).map(
    (signal) => [signal, () => void server.stop(signal)],
  );
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  const onAbort = () => void server.stop("abort");
  context.signal?.addEventListener("abort", onAbort, { once: true });
  if (context.signal?.aborted) onAbort();
  let reason: string;
  try {
    reason = await server.stopped;
  } finally {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    context.signal?.removeEventListener("abort", onAbort);
  }
  await router?.close();
  log(`wrapp serve: stopped (${reason}): ${formatCollectorStats(server.stats())}`);
  return 0;
}

/** `wrapp list`: print the traces in the folder as a table; exit code 0. */
export async function listCommand(
  args: readonly string[],
  context: CollectorCommandContext,
): Promise<number> {
  const { values } = parseFlags("list", args, { dir: _DIR_OPTION, help: _HELP_OPTION }, 0);
  if (values.help) {
    context.print(LIST_HELP);
    return 0;
  }
  const dir = _dir(values.dir, context);
  const traces = await listTraces(dir);
  if (traces.length === 0) {
    context.print(`No traces in "${dir}"`);
    return 0;
  }
  context.print(formatTraceTable(traces));
  context.print(`${traces.length} trace${traces.length === 1 ? "" : "s"} in "${dir}"`);
  return 0;
}

/** `wrapp get-tef`: assemble one trace into array-form JSON, to a file or stdout; exit code 0. */
export async function getTefCommand(
  args: readonly string[],
  context: CollectorCommandContext,
): Promise<number> {
  const { values, positionals } = parseFlags("get-tef", args, {
    out: { type: "string", short: "o" },
    dir: _DIR_OPTION,
    help: _HELP_OPTION,
  }, 1);
  if (values.help) {
    context.print(GET_TEF_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      'Missing trace: usage "wrapp get-tef <trace-id | path | latest> [-o FILE]"',
    );
  }
  const dir = _dir(values.dir, context);
  const trace = await findTrace(dir, positionals[0]);
  const out = _nonEmpty("--out", values.out);
  const toStdout = out === "-" || (out === undefined && !Deno.stdout.isTerminal());
  if (out === undefined && !toStdout) {
    throw new UsageError(
      "Refusing to write a trace to the terminal: pass -o FILE (or -o - to print it anyway)",
    );
  }
  if (toStdout) {
    const result = await _assembleToStdout(trace.path);
    if (result.skipped > 0) {
      (context.log ?? _stderrLine)(
        `wrapp get-tef: skipped ${result.skipped} unreadable lines of "${trace.path}"`,
      );
    }
    return 0;
  }
  let result;
  try {
    result = await assembleTrace(trace.path, out!);
  } catch (error) {
    throw new WrappError(`Cannot write "${out}": ${describeCause(error)}`, { cause: error });
  }
  context.print(
    `Wrote trace ${quoteTraceId(trace.id)} (${result.events} event${
      result.events === 1 ? "" : "s"
    }${result.skipped > 0 ? `, ${result.skipped} unreadable lines skipped` : ""}) to "${out}"`,
  );
  return 0;
}

/** `wrapp clear`: delete the `*.jsonl` traces in the folder and say how many; exit code 0. */
export async function clearCommand(
  args: readonly string[],
  context: CollectorCommandContext,
): Promise<number> {
  const { values } = parseFlags("clear", args, { dir: _DIR_OPTION, help: _HELP_OPTION }, 0);
  if (values.help) {
    context.print(CLEAR_HELP);
    return 0;
  }
  const dir = _dir(values.dir, context);
  const removed = await clearTraces(dir);
  context.print(`Removed ${removed} trace${removed === 1 ? "" : "s"} from "${dir}"`);
  return 0;
}

/**
 * The `wrapp list` table: id, events, size, last change (local time), one trace per line.
 *
 * ```text
 * TRACE ID   EVENTS      SIZE  MODIFIED
 * demo            2     124 B  2024-06-10 12:00:01
 * ```
 */
export function formatTraceTable(traces: readonly TraceInfo[]): string {
  const rows = traces.map((t) => [
    t.id,
    String(t.events),
    formatBytes(t.bytes),
    _formatDate(t.modified),
  ]);
  const header = ["TRACE ID", "EVENTS", "SIZE", "MODIFIED"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    [
      row[0].padEnd(widths[0]),
      row[1].padStart(widths[1]),
      row[2].padStart(widths[2]),
      row[3],
    ].join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** `512 B`, `48.2 KiB`, `3.0 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function _formatDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${
    pad(date.getHours())
  }:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function _nonEmpty(flag: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) {
    throw new UsageError(`Option "${flag}" needs a non-empty value`);
  }
  return value;
}

function _dir(value: string | boolean | undefined, context: CollectorCommandContext): string {
  const env = context.env ?? ((name: string) => Deno.env.get(name));
  return resolve(_nonEmpty("--dir", value) ?? defaultTraceDir(env));
}

function _parseLineBytes(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < _MIN_LINE_BYTES || n > _MAX_LINE_BYTES) {
    throw new UsageError(
      `Invalid value for "--max-line-bytes": expected an integer between ${_MIN_LINE_BYTES} and ${_MAX_LINE_BYTES}, got "${value}"`,
    );
  }
  return n;
}

/** Assemble into a private temporary file (assembly needs a real path), then copy to stdout. */
async function _assembleToStdout(jsonl: string): Promise<{ events: number; skipped: number }> {
  const temp = await Deno.makeTempDir({ prefix: "wrapp-get-tef-" });
  try {
    const path = `${temp}/trace.json`;
    const result = await assembleTrace(jsonl, path);
    const file = await Deno.open(path, { read: true });
    try {
      await file.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
    } catch (error) {
      // The reader left early (`| head`): like any Unix filter, stop quietly.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
    return result;
  } finally {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
}

const _encoder = new TextEncoder();

/** Write one line to stderr synchronously, so it is out before the process exits. */
function _stderrLine(message: string): void {
  const bytes = _encoder.encode(`${message}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
