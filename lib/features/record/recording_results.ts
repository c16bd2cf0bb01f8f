/**
 * What a recording leaves besides its trace: `summary.txt` and `metadata.json` in its
 * folder, every file handed to the user who ran sudo, and the process list both draw on.
 *
 * @module
 */

import type { TraceSummary } from "../../pipeline/syscalls/trace_summary.ts";
import { formatMetadata, type RecordingMetadata } from "./metadata.ts";
import type { ProcessSeen } from "./process_watcher.ts";
import { handOver, sudoUser } from "./recording_dir.ts";
import type { RecordingTrace } from "./recording_trace.ts";
import { formatRecordingSummary } from "./summary_text.ts";

/** The files of a recording folder handed over to the sudo user. */
const _FILES = [
  "trace.json",
  "events.jsonl",
  "summary.txt",
  "metadata.json",
  "app.log",
  "workload.log",
];

/**
 * The processes the /proc samples saw, plus those only the tracer saw (too short-lived
 * to be sampled), with their thread counts from the kernel's per-thread rows.
 */
export function allProcesses(
  sampled: readonly ProcessSeen[],
  trace: RecordingTrace,
  summary: TraceSummary | undefined,
): ProcessSeen[] {
  const tids = new Map<number, Set<number>>();
  for (const row of summary?.rows ?? []) {
    if (row.tid === undefined) continue;
    const pid = trace.processOf(row.tid) ?? row.tid;
    tids.set(pid, (tids.get(pid) ?? new Set()).add(row.tid));
  }
  const all = sampled.map((p) => ({
    ...p,
    threads: Math.max(p.threads, tids.get(p.pid)?.size ?? 0),
  }));
  const known = new Set(all.map((p) => p.pid));
  for (const [pid, title] of Object.entries(trace.processTitles)) {
    if (known.has(Number(pid))) continue;
    all.push({ pid: Number(pid), title, peakRssKb: 0, threads: tids.get(Number(pid))?.size ?? 0 });
  }
  return all;
}

/** What {@linkcode writeRecordingFiles} writes. */
export interface RecordingFiles {
  /** The recording's folder. */
  dir: string;
  metadata: RecordingMetadata;
  summary: TraceSummary | undefined;
  processes: ProcessSeen[];
  trace: RecordingTrace;
  /** The load generator's figures. */
  results: string[];
  /** The folder recordings go in, when wrapp made it (it is handed over too). */
  newOutDir?: string;
  /** Environment lookup (SUDO_UID, SUDO_GID). */
  env?: (name: string) => string | undefined;
}

/** Write `summary.txt` and `metadata.json`, then hand the folder to the sudo user. */
export async function writeRecordingFiles(files: RecordingFiles): Promise<void> {
  const { dir, metadata, summary, trace } = files;
  const threadNames = { ...(summary?.threads ?? {}), ...trace.threadNames };
  const summaryText = formatRecordingSummary({
    metadata,
    trace: summary,
    processes: files.processes,
    threadNames,
    threadProcess: (tid) => trace.processOf(tid),
    results: files.results,
  });
  await Deno.writeTextFile(`${dir}/summary.txt`, summaryText);
  await Deno.writeTextFile(`${dir}/metadata.json`, formatMetadata(metadata));
  const owner = sudoUser(files.env);
  await handOver([
    ...(files.newOutDir !== undefined ? [files.newOutDir] : []),
    dir,
    ..._FILES.map((file) => `${dir}/${file}`),
  ], owner);
}
