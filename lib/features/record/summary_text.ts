/**
 * `summary.txt` of a recording: what ran and how it ended, the load generator's figures,
 * the processes seen, a `strace -c -w` style table per thread, and the top anomalies.
 *
 * @module
 */

import { describeExit } from "../../core/signals.ts";
import type { AnomalyEvent, SyscallRow } from "../../pipeline/syscalls/syscall_events.ts";
import { rowTotals } from "../../pipeline/syscalls/syscall_stats.ts";
import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import { describeAnomaly, formatSummaryTable } from "../../pipeline/syscalls/summary_table.ts";
import { formatDurationNs } from "../../core/parse_duration.ts";
import type { ExitStatusJson, RecordingMetadata } from "./metadata.ts";
import type { ProcessSeen } from "./process_watcher.ts";
import { shellQuote } from "./shell_words.ts";

/** What the summary is made from. */
export interface SummaryInput {
  metadata: RecordingMetadata;
  /** The syscall trace; undefined when tracing never started. */
  trace?: TraceSummary;
  /** Processes of the traced tree. */
  processes: readonly ProcessSeen[];
  /** Thread names by tid. */
  threadNames: Readonly<Record<number, string>>;
  /** The process of each thread, by tid, when known. */
  threadProcess?: (tid: number) => number | undefined;
  /** The load generator's figures. */
  results: readonly string[];
  /** Most threads given a table; the rest are summed up in one line. Default 20. */
  maxThreads?: number;
  /** Most anomalies listed. Default 20. */
  maxAnomalies?: number;
}

/** The text of `summary.txt`. */
export function formatRecordingSummary(input: SummaryInput): string {
  const m = input.metadata;
  const lines: string[] = [];
  const when = m.start.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  lines.push(
    `wrapp record ${m.app}: ${
      m.duration_s.toFixed(1)
    } s on ${m.host} (${m.arch}, Linux ${m.kernel}), ${when}`,
    "",
  );
  const field = (name: string, value: string) => lines.push(`${name.padEnd(10)}${value}`);
  field("app", `${m.app_version ? `version ${m.app_version}: ` : ""}${shellQuote(m.command)}`);
  if (m.workload) field("workload", shellQuote(m.workload));
  field("stopped", _stopped(m));
  if (m.problem) field("problem", m.problem);
  field("wrapp", `${m.wrapp_version}, bpftrace ${m.bpftrace_version ?? "not run"}`);

  if (input.results.length > 0) {
    lines.push("", "workload results");
    for (const result of input.results) lines.push(`  ${result}`);
  }

  const trace = input.trace;
  if (trace) {
    lines.push(
      "",
      `syscalls  ${trace.calls} calls, ${trace.errors} failed, ${
        formatDurationNs(trace.totalNs)
      } inside calls; ${m.slow_syscalls} took ${
        formatDurationNs(trace.floorNs)
      } or more; ${trace.anomalyCount} ${
        trace.anomalyCount === 1 ? "anomaly" : "anomalies"
      }; bpftrace lost ${trace.lostEvents} events`,
    );
  }
  _processes(lines, input.processes, Date.parse(m.start));

  if (trace && trace.rows.length > 0) {
    lines.push(
      "",
      "syscalls by thread (wall-clock time inside the calls, like strace -c -w; busiest thread first)",
      "",
    );
    const titles = new Map(input.processes.map((p) => [p.pid, p.title]));
    const heading = (tid: number) => {
      const pid = input.threadProcess?.(tid);
      const name = input.threadNames[tid];
      if (pid === tid || (pid === undefined && titles.has(tid))) {
        return `process ${tid} (${titles.get(tid) ?? name ?? "?"})`;
      }
      return `thread ${tid}${name ? ` (${name})` : ""}${pid ? ` of process ${pid}` : ""}`;
    };
    lines.push(_threadTables(trace.rows, heading, input.maxThreads ?? 20));
  }
  if (trace) {
    lines.push("", ..._anomalies(trace, input.maxAnomalies ?? 20));
  }
  return lines.join("\n") + "\n";
}

function _stopped(m: RecordingMetadata): string {
  const why: Record<RecordingMetadata["stopped_by"], string> = {
    duration: "after the duration",
    "workload end": "when the workload ended",
    exit: "when the command exited",
    SIGINT: "by Ctrl-C (SIGINT)",
    SIGTERM: "by SIGTERM",
    SIGHUP: "by SIGHUP",
    error: "by an error",
  };
  const parts = [why[m.stopped_by]];
  if (m.exit_status) parts.push(`app: ${_exit(m.exit_status)}`);
  if (m.workload_exit_status) parts.push(`workload: ${_exit(m.workload_exit_status)}`);
  return parts.join("; ");
}

function _exit(status: ExitStatusJson): string {
  return describeExit({
    ...(status.code !== null ? { code: status.code } : {}),
    ...(status.signal !== null ? { signal: status.signal } : {}),
  });
}

function _processes(lines: string[], processes: readonly ProcessSeen[], start: number): void {
  if (processes.length === 0) return;
  const threads = processes.reduce((n, p) => n + p.threads, 0);
  lines.push(
    `processes ${processes.length} (${threads} ${threads === 1 ? "thread" : "threads"})`,
  );
  const width = Math.max(...processes.map((p) => String(p.pid).length));
  for (const process of processes.slice(0, 50)) {
    const from = process.startTime === undefined
      ? "?"
      : `${Math.max(0, (process.startTime - start) / 1000).toFixed(1)}`;
    const to = process.endTime === undefined
      ? "end"
      : `${((process.endTime - start) / 1000).toFixed(1)}`;
    // A process too short-lived for the /proc samples is known from its syscalls only.
    const span = process.startTime === undefined && process.endTime === undefined
      ? "not sampled (short-lived)"
      : `${from}–${to} s`;
    lines.push(
      `  pid ${String(process.pid).padStart(width)}  ${process.threads} ${
        process.threads === 1 ? "thread " : "threads"
      }  peak RSS ${
        (process.peakRssKb > 0 ? _mib(process.peakRssKb) : "?").padStart(9)
      }  ${span}  ${process.title}`,
    );
  }
  if (processes.length > 50) lines.push(`  … ${processes.length - 50} more processes`);
}

function _mib(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`;
}

function _threadTables(
  rows: readonly SyscallRow[],
  heading: (tid: number) => string,
  maxThreads: number,
): string {
  const byThread = new Map<number, SyscallRow[]>();
  for (const row of rows) {
    const list = byThread.get(row.tid ?? 0) ?? [];
    list.push(row);
    byThread.set(row.tid ?? 0, list);
  }
  // Most calls first: an idle thread blocked in one long futex is not the busy one.
  const ranked = [...byThread].sort((a, b) =>
    rowTotals(b[1]).calls - rowTotals(a[1]).calls || a[0] - b[0]
  );
  const shown = ranked.slice(0, maxThreads);
  // Without their tid, the rows make one table (formatSummaryTable would split them again).
  let text = shown.map(([tid, list]) =>
    `${heading(tid)}\n${formatSummaryTable(list.map(({ tid: _, ...row }) => row))}`
  ).join("\n\n");
  const rest = ranked.slice(maxThreads);
  if (rest.length > 0) {
    const calls = rest.reduce((n, [, list]) => n + rowTotals(list).calls, 0);
    text += `\n\n… ${rest.length} more threads with ${calls} calls in all`;
  }
  return text;
}

function _anomalies(trace: TraceSummary, limit: number): string[] {
  if (trace.anomalyCount === 0) return ["no anomalies"];
  const top = [...trace.anomalies].sort((a: AnomalyEvent, b: AnomalyEvent) =>
    b.latencyNs - a.latencyNs
  ).slice(0, limit);
  return [
    `top anomalies (${top.length} of ${trace.anomalyCount}, slowest first; times from the start of tracing)`,
    ...top.map((anomaly) => `  ${describeAnomaly(anomaly, trace.startTime)}`),
  ];
}
