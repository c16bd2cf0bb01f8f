/**
 * The `wrapp ps` table: one line per service, columns aligned like `docker ps` and
 * `pm2 ls` (text to the left, numbers to the right), `-` for what is not known.
 *
 * @module
 */

import type { LastExit } from "../service_snapshot.ts";
import type { PsRow } from "./ps_row.ts";
import { formatBytes } from "../../../core/config/parse_size.ts";

/** Options for {@linkcode formatPsTable}. */
export interface PsTableOptions {
  /** The time the ages are measured at, ms since the epoch. */
  now: number;
  /** Rows from Redis state hashes: a HOST and a SEEN (heartbeat) column instead of WRAPP, LINES/S, CPU and RSS. Default false. */
  fleet?: boolean;
  /** Color the state (ANSI). Default false. */
  color?: boolean;
}

interface _Column {
  title: string;
  right?: boolean;
  cell: (row: PsRow) => string;
}

const _COLORS: Readonly<Record<string, string>> = {
  running: "\x1b[32m",
  starting: "\x1b[36m",
  stopping: "\x1b[33m",
  restarting: "\x1b[33m",
  exited: "\x1b[31m",
  stale: "\x1b[31m",
  "no answer": "\x1b[31m",
};

/** The table, header first, lines without trailing spaces, no final newline. */
export function formatPsTable(rows: readonly PsRow[], options: PsTableOptions): string {
  const { now } = options;
  const dash = (value: string | undefined) => value ?? "-";
  const columns: _Column[] = [
    { title: "NAME", cell: (r) => r.name ?? "?" },
    options.fleet
      ? { title: "HOST", cell: (r) => dash(r.host) }
      : { title: "WRAPP", right: true, cell: (r) => dash(r.wrappPid?.toString()) },
    { title: "PID", right: true, cell: (r) => dash(r.pid?.toString()) },
    { title: "STATE", cell: (r) => r.state },
    {
      title: "UPTIME",
      right: true,
      cell: (r) =>
        r.pid !== undefined && r.startedAt !== undefined ? formatAge(now - r.startedAt) : "-",
    },
    { title: "RESTARTS", right: true, cell: (r) => dash(r.restarts?.toString()) },
    { title: "LAST EXIT", cell: (r) => r.lastExit ? formatLastExit(r.lastExit, now) : "-" },
  ];
  if (options.fleet) {
    columns.push({
      title: "SEEN",
      right: true,
      cell: (r) => r.heartbeat !== undefined ? `${formatAge(now - r.heartbeat)} ago` : "-",
    });
  } else {
    columns.push(
      { title: "LINES/S", right: true, cell: (r) => _rate(r.linesPerSecond) },
      {
        title: "CPU",
        right: true,
        cell: (r) => r.cpuPercent === undefined ? "-" : `${r.cpuPercent.toFixed(1)}%`,
      },
      {
        title: "RSS",
        right: true,
        cell: (r) => r.rssBytes === undefined ? "-" : formatBytes(r.rssBytes),
      },
    );
  }
  if (rows.some((r) => r.status !== undefined)) {
    columns.push({ title: "STATUS", cell: (r) => dash(r.status) });
  }

  const cells = rows.map((row) => columns.map((column) => _clean(column.cell(row))));
  const widths = columns.map((column, i) =>
    Math.max(_width(column.title), ...cells.map((line) => _width(line[i])))
  );
  const stateAt = columns.findIndex((c) => c.title === "STATE");
  const render = (line: readonly string[], colored: boolean) =>
    line.map((text, i) => {
      const pad = " ".repeat(widths[i] - _width(text));
      const shown = colored && i === stateAt && _COLORS[text]
        ? `${_COLORS[text]}${text}\x1b[0m`
        : text;
      return columns[i].right ? pad + shown : shown + pad;
    }).join("  ").trimEnd();
  return [
    render(columns.map((c) => c.title), false),
    ...cells.map((line) => render(line, options.color === true)),
  ].join("\n");
}

/** A duration as `ps` shows it: `45s`, `12m`, `3h12m`, `2d3h`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days}d${hours % 24 ? `${hours % 24}h` : ""}`;
}

/** How a run ended and how long ago: `SIGSEGV 12s ago`, `exit 1 3m ago`. */
export function formatLastExit(exit: LastExit, now: number): string {
  const how = exit.signal !== undefined ? exit.signal : `exit ${exit.code ?? "?"}`;
  return `${how} ${formatAge(now - exit.at)} ago`;
}

function _rate(perSecond: number | undefined): string {
  if (perSecond === undefined) return "-";
  if (perSecond === 0) return "0";
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

/** Control characters would break the alignment (and could drive the terminal). */
function _clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, "?");
}

function _width(text: string): number {
  return [...text].length;
}
