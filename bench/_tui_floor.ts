/**
 * The floor for bench/tui_frame_time.ts: the same demo data and view state as
 * `wrapp trace --demo`, turned into plain lines by hand and written straight to the
 * terminal every tick (cursor home, lines, clear to end of line). No layout, no colors,
 * no diffing: what a frame costs without a terminal library. Prints its frame times at
 * the end in the same words as `wrapp trace --fps`.
 *
 * Run in a terminal: deno run -A bench/_tui_floor.ts SECONDS
 */

import { DemoFeed } from "../lib/features/trace/demo_feed.ts";
import { TraceViewState } from "../lib/features/trace/trace_view_state.ts";
import { sparkline } from "../lib/features/trace/sparkline.ts";
import { formatCount } from "../lib/features/trace/trace_view.ts";
import { hostArch } from "../lib/pipeline/syscalls/syscall_table.ts";

const seconds = Number(Deno.args[0] ?? 20);
const tickMs = 50;
const feed = new DemoFeed({ arch: hostArch(), tickMs });
const state = new TraceViewState(feed);
const encoder = new TextEncoder();
const times: number[] = [];
const start = performance.now();

Deno.stdout.writeSync(encoder.encode("\x1b[?1049h\x1b[?25l"));
const timer = setInterval(() => {
  const t0 = performance.now();
  feed.tick();
  state.update();
  const { columns, rows } = Deno.consoleSize();
  const lines = [
    `wrapp trace (floor)  pid ${state.header.pid}  ${state.header.command}`,
    `${formatCount(Math.round(state.rate))} calls/s  ${formatCount(state.totals.calls)} calls`,
    sparkline(state.rates, columns),
    ...state.rows.map((row) =>
      `${row.name.padEnd(18)}${formatCount(row.calls).padStart(12)}${
        formatCount(row.errors).padStart(9)
      }`
    ),
    ...state.histogram().map((bar) =>
      `${bar.lowNs}`.padStart(12) + " " + "#".repeat(Math.min(60, Math.log2(bar.count + 1) * 3))
    ),
    ...state.anomalies.slice(0, 6).map((a) =>
      `${a.syscall} ${a.latencyNs} z ${a.zScore?.toFixed(1)}`
    ),
  ].slice(0, rows);
  const text = "\x1b[H" + lines.map((line) => line.slice(0, columns) + "\x1b[K").join("\r\n") +
    "\x1b[J";
  Deno.stdout.writeSync(encoder.encode(text));
  if (t0 - start > 1000) times.push(performance.now() - t0);
  if (t0 - start > seconds * 1000) {
    clearInterval(timer);
    Deno.stdout.writeSync(encoder.encode("\x1b[?1049l\x1b[?25h"));
    const sorted = [...times].sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(
      `wrapp: ${times.length} frames after the first second: mean ${mean.toFixed(2)} ms, p99 ${
        sorted[Math.ceil(sorted.length * 0.99) - 1].toFixed(2)
      } ms, max ${sorted.at(-1)!.toFixed(2)} ms`,
    );
  }
}, tickMs);
