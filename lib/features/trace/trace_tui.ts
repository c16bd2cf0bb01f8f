/**
 * The parts of `wrapp trace` that exist only for the full-screen view (`--tui`, `--demo`):
 * checking for a terminal, where a launched command's output goes instead of the screen,
 * and the demo.
 *
 * @module
 */

import { join } from "node:path";
import { describeCause, SinkError, UsageError } from "../../core/errors.ts";
import { hostArch } from "../../pipeline/syscalls/syscall_table.ts";
import { newRunId } from "../../pipeline/tef/run_dir.ts";
import { DemoFeed } from "./demo_feed.ts";
import type { RunTraceTuiOptions, TraceTuiResult } from "./run_trace_tui.ts";

/** Throw a {@linkcode UsageError} unless stdin and stdout are both a terminal. */
export function assertTerminal(flag: string): void {
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
    throw new UsageError(
      `${flag} needs a terminal on stdin and stdout (run it in a terminal or tmux; for scripts use --summary or --json)`,
    );
  }
}

/** Where a launched command's output goes under `--tui` when `--log` is not given. */
export function defaultLogPath(
  command: string,
  env = (name: string) => Deno.env.get(name),
): string {
  const name = (command.split("/").pop() || "command").replace(/[^A-Za-z0-9_.-]/g, "_");
  return join(env("TMPDIR") || "/tmp", `wrapp-trace-${name}-${newRunId()}.log`);
}

/**
 * Copy `streams` (a command's stdout and stderr) into the file at `path`, created or
 * truncated now; resolves when both have ended. Throws {@linkcode SinkError} (74) when
 * the file cannot be opened.
 */
export async function copyOutputToFile(
  path: string,
  streams: readonly ReadableStream<Uint8Array>[],
): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o644 });
  } catch (error) {
    for (const stream of streams) await stream.cancel().catch(() => {});
    throw new SinkError(`Cannot write the command's output to "${path}": ${describeCause(error)}`, {
      cause: error,
    });
  }
  let failed = false;
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      if (failed) continue; // keep reading so the command never blocks on a full pipe
      try {
        let written = 0;
        while (written < chunk.length) written += await file.write(chunk.subarray(written));
      } catch {
        failed = true; // a full disk: the trace goes on, the rest of the output is lost
      }
    }
  };
  try {
    await Promise.all(streams.map(copy));
  } finally {
    file.close();
  }
}

/** `wrapp trace --demo`: the view on synthetic data until `q` (or `duration` ms of demo time). */
export async function runDemo(
  options: { tickMs: number; fps: boolean; durationMs?: number; rate?: number },
): Promise<TraceTuiResult> {
  assertTerminal("--demo");
  const feed = new DemoFeed({
    arch: hostArch(),
    tickMs: options.tickMs,
    rate: options.rate,
    ...(options.durationMs === undefined
      ? {}
      : { endAfterTicks: Math.max(1, Math.round(options.durationMs / options.tickMs)) }),
  });
  return await showTraceView({ feed, tickMs: options.tickMs, showFps: options.fps });
}

/**
 * Load the view and run it. It is loaded only now, with NODE_ENV=production for the
 * moment React and its reconciler are first evaluated: they pick their production build
 * then, which draws a frame about twice as fast as the development one. NODE_ENV is put
 * back at once, so the commands wrapp starts never inherit it.
 */
export async function showTraceView(options: RunTraceTuiOptions): Promise<TraceTuiResult> {
  await _provideRequire();
  const previous = Deno.env.get("NODE_ENV");
  Deno.env.set("NODE_ENV", "production");
  let view: typeof import("./run_trace_tui.ts");
  try {
    view = await import("./run_trace_tui.ts");
  } finally {
    if (previous === undefined) Deno.env.delete("NODE_ENV");
    else Deno.env.set("NODE_ENV", previous);
  }
  return await view.runTraceTui(options);
}

/**
 * CommonJS packages under ink (signal-exit, stack-utils) `require()` Node's built-ins as
 * they are evaluated. Under `deno run` Deno's npm loader gives them `require`; in the
 * bundle the binary embeds (.ci/bundle.ts), their `require` is the global one, which Deno
 * does not define: without it the view failed to load ("Dynamic require of "node:assert"
 * is not supported"). It is given here, and only here, as `node:module` costs every other
 * command ~30 ms of start-up when the bundle's shared chunk imports it.
 */
async function _provideRequire(): Promise<void> {
  const global = globalThis as { require?: unknown };
  if (global.require !== undefined) return;
  const { createRequire } = await import("node:module");
  global.require = createRequire(import.meta.url);
}

/** "1234 frames after the first second: mean 1.92 ms, p99 4.10 ms, max 9.80 ms" for `--fps`. */
export function describeFrames(result: TraceTuiResult): string {
  const f = result.frames;
  return `wrapp: ${f.frames} frames after the first second: mean ${f.meanMs.toFixed(2)} ms, p99 ${
    f.p99Ms.toFixed(2)
  } ms, max ${f.maxMs.toFixed(2)} ms`;
}
