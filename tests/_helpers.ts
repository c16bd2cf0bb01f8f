/**
 * Shared helpers for whole-process tests: run the real CLI as a subprocess, make
 * throw-away folders and configs, read the trace a run left behind.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { checkTraceFileText } from "../lib/pipeline/tef/perfetto_rules.ts";

/** Absolute path of main.ts. */
export const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));
/** Absolute path of the repository. */
export const ROOT = fromFileUrl(new URL("../", import.meta.url));

/** What a finished wrapp process left. */
export interface WrappOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for starting wrapp. */
export interface WrappOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. Default: the repository. */
  cwd?: string;
  /** Bytes for wrapp's stdin (default: none, stdin is /dev/null). */
  stdin?: string;
  /** The module to run instead of main.ts (e.g. the bundle's main.js). */
  entry?: string;
  /** More `deno run` flags, before the module (e.g. `--no-config`). */
  denoFlags?: string[];
}

/** Start `wrapp ARGS…` as a subprocess (deno run main.ts, or `options.entry`). */
export function spawnWrapp(args: string[], options: WrappOptions = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", ...options.denoFlags ?? [], options.entry ?? MAIN, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Run `wrapp ARGS…` to completion and collect its output. */
export async function runWrapp(args: string[], options: WrappOptions = {}): Promise<WrappOutput> {
  const child = spawnWrapp(args, options);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * The processes whose raw command line (arguments NUL-separated) contains `text`, e.g. a
 * test's private folder: what a test checks is gone, or is there.
 */
export async function processesMentioning(
  text: string,
): Promise<{ pid: number; command: string }[]> {
  const found: { pid: number; command: string }[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (cmdline.includes(text)) {
      found.push({ pid: Number(entry.name), command: cmdline.replaceAll("\0", " ") });
    }
  }
  return found;
}

/** A temporary folder removed when disposed: `await using dir = await tempDir()`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "wrapp-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** Write an executable bash script and return its path. */
export async function writeScript(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  return path;
}

/**
 * Write `svc.toml` in `dir` running `executable` with `args`, writing its local trace to
 * `<dir>/traces`, echo off unless `extra` says otherwise. Returns the config path.
 */
export async function writeConfig(
  dir: string,
  app: { executable: string; args?: string[]; extra?: string; name?: string },
): Promise<string> {
  const path = `${dir}/svc.toml`;
  const text = [
    "[app]",
    `executable = ${JSON.stringify(app.executable)}`,
    `args = ${JSON.stringify(app.args ?? [])}`,
    `stream_name = ${JSON.stringify(app.name ?? "svc")}`,
    "",
    "[local]",
    `dir = ${JSON.stringify(`${dir}/traces`)}`,
    "",
    app.extra ?? "[output]\necho = false",
    "",
  ].join("\n");
  await Deno.writeTextFile(path, text);
  return path;
}

/**
 * A C program that crashes with SIGSEGV in `crash_here()` ← `level_one()` ← `main()`, the
 * stack every crash test expects symbolized (build it with {@linkcode compileC}).
 */
export const SEGV_C = `#include <stdio.h>
__attribute__((noinline)) void crash_here(int *p) { *p = 42; }
__attribute__((noinline)) void level_one(int *p) { crash_here(p); }
int main(void) { level_one(NULL); return 0; }
`;

/**
 * Compile the C `source` into `<dir>/<name>` with debug info and frame pointers (what gdb
 * and eBPF stack walks need); throws with gcc's message when it does not compile.
 */
export async function compileC(dir: string, name: string, source: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}.c`, source);
  const exe = `${dir}/${name}`;
  const output = await new Deno.Command("gcc", {
    args: ["-g", "-O0", "-fno-omit-frame-pointer", "-pthread", "-o", exe, `${dir}/${name}.c`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(`gcc failed: ${new TextDecoder().decode(output.stderr)}`);
  return exe;
}

/** A TEF event as read back from a trace. */
export interface TraceEvent {
  ph: string;
  name?: string;
  ts?: number;
  pid?: number;
  tid?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/**
 * Read `<traceDir>/latest/trace.json`, assert it follows the Perfetto rules, and return
 * its events.
 */
export async function readLatestTrace(traceDir: string): Promise<TraceEvent[]> {
  const text = await Deno.readTextFile(`${traceDir}/latest/trace.json`);
  const violations = checkTraceFileText(text);
  if (violations.length > 0) {
    throw new Error(`trace.json breaks the Perfetto rules:\n${violations.slice(0, 10).join("\n")}`);
  }
  return JSON.parse(text);
}

/** The text of every log line on the stdout (tid 2) or stderr (tid 3) track, in order. */
export function logTexts(events: TraceEvent[], stream: "stdout" | "stderr" = "stdout"): string[] {
  return events.filter((e) => e.ph === "i" && e.cat === stream).map((e) => String(e.args?.text));
}

/** Wait until `predicate` holds, polling every 20 ms, or fail after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
