/**
 * How `wrapp trace --tui` draws a {@linkcode TraceViewState}: ink (React for terminals)
 * components sized to the terminal. Pure functions of the state and the size: ink diffs
 * the lines it printed last time and rewrites only those that changed.
 *
 * @module
 */

// @ts-types="@types/react"
import React from "react";
import { Box, Text } from "ink";
import { FILTERS, type TraceViewState } from "./trace_view_state.ts";
import { sparkline } from "./sparkline.ts";

const h = React.createElement;

/** What the footer says about frame times (`--fps`). */
export interface FrameStats {
  meanMs: number;
  p99Ms: number;
  frames: number;
}

/** Props of {@linkcode TraceView}. */
export interface TraceViewProps {
  state: TraceViewState;
  width: number;
  height: number;
  /** Wall-clock now, ms since the Unix epoch (the elapsed time). */
  now: number;
  /** Frame times, with `--fps`. */
  fps?: FrameStats;
}

/** The whole screen. */
export function TraceView(props: TraceViewProps): React.ReactElement {
  const { state, width, height } = props;
  const anomalyLines = height >= 30 ? 6 : height >= 20 ? 4 : 2;
  const middle = Math.max(5, height - 3 - 4 - (anomalyLines + 3) - 1);
  return h(
    Box,
    { flexDirection: "column", width, height },
    h(Header, props),
    h(RatePanel, { state, width }),
    state.helpOpen ? h(HelpPanel, { width, height: middle + anomalyLines + 3 }) : h(
      Box,
      { flexDirection: "column" },
      h(
        Box,
        { flexDirection: "row", height: middle },
        h(SyscallTable, { state, width: _tableWidth(width), height: middle }),
        width - _tableWidth(width) >= 24
          ? h(HistogramPanel, { state, width: width - _tableWidth(width), height: middle })
          : null,
      ),
      h(AnomalyPanel, { state, width, lines: anomalyLines }),
    ),
    h(Footer, props),
  );
}

function _tableWidth(width: number): number {
  // The table needs 70 columns; the histogram beside it at least 24.
  return width < 94 ? width : Math.max(70, Math.floor(width * 0.6));
}

function Header(props: TraceViewProps): React.ReactElement {
  const { state, width, now } = props;
  const header = state.header;
  const badge = header.state === "complete"
    ? h(Text, { bold: true, inverse: true, color: "cyan" }, " TRACE COMPLETE ")
    : state.paused
    ? h(Text, { bold: true, inverse: true, color: "yellow" }, " PAUSED ")
    : header.state === "starting"
    ? h(Text, { bold: true, color: "yellow" }, " STARTING ")
    : h(Text, { bold: true, color: "green" }, " ● TRACING ");
  const elapsed = _clock(Math.max(0, now - header.startTime));
  const facts = [
    ...(header.exit ? [header.exit] : []),
    `threads ${header.threads}`,
    elapsed,
    `${formatCount(Math.round(state.rate))} calls/s`,
    `${formatCount(state.totals.calls)} calls`,
    `${formatCount(state.totals.errors)} errors`,
    `lost ${formatCount(header.lostEvents)}`,
  ].join("  |  ");
  const source = `${header.source}, counts every ${_refresh(header.refreshMs)}`;
  return h(
    Box,
    { flexDirection: "column", width },
    h(
      Box,
      { width },
      h(Text, { bold: true }, "wrapp trace "),
      badge,
      h(Text, { wrap: "truncate" }, `  pid ${header.pid}  ${header.command}`),
    ),
    h(Text, { wrap: "truncate" }, facts),
    h(
      Text,
      { wrap: "truncate", dimColor: true },
      header.outputPath ? `output: ${header.outputPath}  |  ${source}` : source,
    ),
  );
}

function RatePanel(props: { state: TraceViewState; width: number }): React.ReactElement {
  const { state, width } = props;
  const inner = Math.max(1, width - 4);
  const max = state.rates.slice(-inner).reduce((a, b) => Math.max(a, b), 0);
  return _panel({ width, height: 4 }, [
    h(Text, { bold: true }, "syscalls/s"),
    `  now ${formatCount(Math.round(state.rate))}  |  max ${formatCount(Math.round(max))}`,
  ], [h(Text, { key: "spark", color: "green", wrap: "truncate" }, sparkline(state.rates, inner))]);
}

const _COLUMNS = [
  ["syscall", 18],
  ["calls", 12],
  ["errors", 9],
  ["time%", 7],
  ["mean", 9],
  ["p99", 9],
] as const;

function SyscallTable(
  props: { state: TraceViewState; width: number; height: number },
): React.ReactElement {
  const { state, width, height } = props;
  const visible = Math.max(1, height - 4);
  const selectedIndex = Math.max(0, state.rows.findIndex((row) => row.name === state.selected));
  const first = Math.min(
    Math.max(0, selectedIndex - visible + 1),
    Math.max(0, state.rows.length - visible),
  );
  const totalNs = state.rows.reduce((sum, row) => sum + row.totalNs, 0) || 1;
  const header = _COLUMNS.map(([name, size], i) =>
    i === 0 ? name.padEnd(size) : name.padStart(size)
  )
    .join("");
  const lines = state.rows.slice(first, first + visible).map((row) => {
    const selected = row.name === state.selected;
    const cells = [
      row.name.slice(0, _COLUMNS[0][1] - 3).padEnd(_COLUMNS[0][1] - 2),
      formatCount(row.calls).padStart(_COLUMNS[1][1]),
      formatCount(row.errors).padStart(_COLUMNS[2][1]),
      `${(row.totalNs * 100 / totalNs).toFixed(1)}`.padStart(_COLUMNS[3][1]),
      _duration(row.meanNs).padStart(_COLUMNS[4][1]),
      _duration(row.p99Ns).padStart(_COLUMNS[5][1]),
    ];
    // The marker is its own text so the changing rest stays ASCII (see _duration).
    return h(
      Text,
      { key: row.name, inverse: selected, wrap: "truncate" },
      selected ? "▶ " : "  ",
      cells[0] + cells[1],
      h(Text, { color: row.errors > 0 ? "red" : undefined }, cells[2]),
      cells.slice(3).join(""),
    );
  });
  const more = state.rows.length > visible
    ? `  ${first + 1}-${first + lines.length} of ${state.rows.length}`
    : "";
  return _panel(
    { width, height },
    [
      h(Text, { bold: true }, "top syscalls"),
      ` by ${_SORT_LABELS[state.sort]}  |  filter ${state.filter}${more}`,
    ],
    [
      h(Text, { key: "titles", dimColor: true, wrap: "truncate" }, header),
      ...(lines.length > 0
        ? lines
        : [h(Text, { key: "none", dimColor: true }, "  no syscalls yet")]),
    ],
  );
}

const _SORT_LABELS = { calls: "count", time: "time", errors: "errors", p99: "p99 latency" };

function HistogramPanel(
  props: { state: TraceViewState; width: number; height: number },
): React.ReactElement {
  const { state, width, height } = props;
  const row = state.selectedRow;
  const bars = state.histogram();
  const visible = Math.max(1, height - 3);
  // Keep the busiest rows when they do not all fit.
  let shown = bars;
  while (shown.length > visible) {
    shown = shown[0].count <= shown[shown.length - 1].count ? shown.slice(1) : shown.slice(0, -1);
  }
  const peak = shown.reduce((max, bar) => Math.max(max, bar.count), 0) || 1;
  const labelWidth = 17;
  const countWidth = 10;
  const barWidth = Math.max(1, width - 4 - labelWidth - countWidth - 1);
  const lines = shown.map((bar) => {
    const length = bar.count === 0 ? 0 : Math.max(1, Math.round((bar.count / peak) * barWidth));
    return h(
      Text,
      { key: String(bar.lowNs), wrap: "truncate" },
      `${_duration(bar.lowNs)}-${_duration(bar.highNs + 1)}`.padStart(labelWidth - 1) +
        formatCount(bar.count).padStart(countWidth) + " ",
      h(Text, { color: "cyan" }, "█".repeat(length)),
    );
  });
  const errnos = row && row.errors > 0
    ? "  " + Object.entries(row.errnos).map(([name, n]) => `${name} ${formatCount(n)}`).join(", ")
    : "";
  return _panel(
    { width, height },
    [
      h(Text, { bold: true }, `latency: ${row?.name ?? "-"}`),
      row ? `  p50 ${_duration(row.p50Ns)}  p99 ${_duration(row.p99Ns)}` : "",
      h(Text, { color: "red" }, errnos),
    ],
    lines,
    "no calls yet",
  );
}

function AnomalyPanel(
  props: { state: TraceViewState; width: number; lines: number },
): React.ReactElement {
  const { state, width, lines } = props;
  const shown = state.anomalies.slice(0, lines).map((anomaly, i) =>
    h(
      Text,
      { key: `${anomaly.time}-${i}`, wrap: "truncate" },
      h(Text, { dimColor: true }, _timeOfDay(anomaly.time)),
      `  ${anomaly.syscall.padEnd(16)} `,
      h(Text, { color: "yellow" }, _duration(anomaly.latencyNs).padStart(9)),
      anomaly.zScore === null ? "   z    —" : `   z ${anomaly.zScore.toFixed(1).padStart(6)}`,
      `   tid ${anomaly.tid} (${anomaly.comm})`,
      anomaly.errno ? h(Text, { color: "red" }, `  ${anomaly.errno}`) : "",
    )
  );
  return _panel(
    { width, height: lines + 3 },
    [
      h(Text, { bold: true }, "anomalies"),
      `  ${formatCount(state.anomalyCount)} in all, latest first`,
    ],
    shown,
    "none yet",
  );
}

/** A bordered panel: a title line, then `lines`, or `empty` (dimmed) when there are none. */
function _panel(
  size: { width: number; height: number },
  title: React.ReactNode[],
  lines: React.ReactNode[],
  empty?: string,
): React.ReactElement {
  return h(
    Box,
    { borderStyle: "classic", flexDirection: "column", ...size, paddingX: 1 },
    h(Text, { wrap: "truncate" }, ...title),
    ...(lines.length === 0 && empty !== undefined
      ? [h(Text, { key: "none", dimColor: true }, empty)]
      : lines),
  );
}

const _HELP = [
  ["q, Ctrl-C, Esc", "quit (the traced command keeps its own exit code)"],
  ["↑ ↓, PgUp PgDn", "select a syscall: its latency histogram is shown on the right"],
  ["s", "sort by count → time → errors → p99 latency"],
  ["p, space", "pause / resume the view (tracing goes on)"],
  ["f", `filter by class: ${FILTERS.join(", ")}`],
  ["?, h", "this help (any key closes it)"],
];

function HelpPanel(props: { width: number; height: number }): React.ReactElement {
  return h(
    Box,
    {
      borderStyle: "classic",
      flexDirection: "column",
      width: props.width,
      height: props.height,
      paddingX: 2,
    },
    h(Text, { bold: true }, "keys"),
    ..._HELP.map(([key, text]) => h(Text, { key, wrap: "truncate" }, `${key.padEnd(18)}${text}`)),
    h(Text, { key: "blank" }, " "),
    h(
      Text,
      { key: "about", wrap: "wrap", dimColor: true },
      "Counts, errors and latency come from the kernel's histograms (bpf/syscalls.bt); an anomaly is one call far slower than its syscall's mean (--threshold, --slow).",
    ),
  );
}

function Footer(props: TraceViewProps): React.ReactElement {
  const keys = " q quit  ↑↓ select  s sort  p pause  f filter  ? help";
  const fps = props.fps && props.fps.frames > 0
    ? `frame ${props.fps.meanMs.toFixed(2)} ms | p99 ${props.fps.p99Ms.toFixed(2)} ms `
    : "";
  return h(
    Box,
    { width: props.width, justifyContent: "space-between" },
    h(Text, { dimColor: true, wrap: "truncate" }, keys),
    h(Text, { color: "magenta" }, fps),
  );
}

/** 1234567 → "1,234,567" (toLocaleString is ten times slower, and this runs every frame). */
export function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}

/**
 * A latency in a few ASCII characters: "850ns", "12.3us", "4.56ms", "1.23s". ASCII on
 * purpose: ink measures every changed line, and a line with any other character takes
 * string-width's slow path (ten times slower).
 */
function _duration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${_short(ns / 1e3)}us`;
  if (ns < 1e9) return `${_short(ns / 1e6)}ms`;
  return `${_short(ns / 1e9)}s`;
}

function _short(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Elapsed ms as "mm:ss.t" (or "h:mm:ss"). */
function _clock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const mm = String(Math.floor(seconds / 60) % 60).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${mm}:${ss}`;
  return `${mm}:${ss}.${Math.floor((ms % 1000) / 100)}`;
}

function _refresh(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** HH:MM:SS.mmm, local time. */
function _timeOfDay(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${
    String(date.getMilliseconds()).padStart(3, "0")
  }`;
}
