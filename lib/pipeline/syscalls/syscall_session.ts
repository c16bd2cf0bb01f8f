/**
 * One syscall-tracing session: what `wrapp trace`, a service's `[trace]` section and
 * `wrapp record` each do around a {@linkcode SyscallTracer}. Check that bpftrace can run
 * `bpf/syscalls.bt` here, start it on a process (one held before its exec is killed when
 * tracing cannot start), tell when the trace is over (the process exited and its last
 * calls arrived, or bpftrace failed), stop it for the summary, and describe that summary
 * in a status event.
 *
 * @module
 */

import { type DebugLog, silentDebug } from "../../core/debug.ts";
import type { SidecarError } from "../../core/errors.ts";
import { assertReady, preflight, type PreflightReport } from "../bpf/preflight.ts";
import { SYSCALLS_PROGRAM } from "../bpf/programs.ts";
import { hostArch, type SyscallArch } from "./syscall_table.ts";
import { SyscallTracer, type SyscallTracerOptions } from "./syscall_tracer.ts";
import type { TraceSummary } from "./trace_summary.ts";

/** A bpftrace that passed the preflight check. */
export interface BpftraceBinary {
  path: string;
  version: string;
}

/**
 * Check root, bpftrace, tracefs and the tracepoints of `bpf/syscalls.bt`; never throws
 * for a missing piece (the report lists it).
 */
export async function checkSyscallTracing(
  options: { bpftrace?: string; debug?: DebugLog } = {},
): Promise<PreflightReport> {
  const report = await preflight({
    bpftrace: options.bpftrace,
    tracepoints: SYSCALLS_PROGRAM.tracepoints,
  });
  (options.debug ?? silentDebug)(`preflight: ${JSON.stringify(report)}`);
  return report;
}

/**
 * {@linkcode checkSyscallTracing}, then the bpftrace to run; throws a `PrivilegeError`
 * (not root) or a `SidecarError` naming every problem.
 */
export async function requireSyscallTracing(
  options: { bpftrace?: string; debug?: DebugLog } = {},
): Promise<BpftraceBinary> {
  const report = await checkSyscallTracing(options);
  assertReady(report);
  return report.bpftrace!;
}

/** Options for {@linkcode SyscallSession.start}: the tracer's, with the checked bpftrace. */
export interface SyscallSessionOptions extends Omit<SyscallTracerOptions, "bpftrace"> {
  bpftrace: BpftraceBinary;
  /** The traced process, held before its exec: killed (SIGKILL) when tracing cannot start. */
  held?: { kill(signal: Deno.Signal): void };
}

/** A syscall trace of one process tree, from attach to summary. */
export class SyscallSession {
  /** The running tracer (its latest maps feed `wrapp trace --tui`). */
  readonly tracer: SyscallTracer;
  /** The bpftrace that runs it. */
  readonly bpftrace: BpftraceBinary;
  /** Architecture of the traced process. */
  readonly arch: SyscallArch;
  /** The traced process. */
  readonly pid: number;

  private constructor(tracer: SyscallTracer, options: SyscallSessionOptions) {
    this.tracer = tracer;
    this.bpftrace = options.bpftrace;
    this.arch = options.arch ?? hostArch();
    this.pid = options.pid;
  }

  /**
   * Start bpftrace on `options.pid` and resolve once its probes are attached. Throws a
   * `SidecarError` when bpftrace cannot run the program (after killing `options.held`).
   */
  static async start(options: SyscallSessionOptions): Promise<SyscallSession> {
    let tracer: SyscallTracer;
    try {
      tracer = await SyscallTracer.start({ ...options, bpftrace: options.bpftrace.path });
    } catch (error) {
      options.held?.kill("SIGKILL");
      throw error;
    }
    (options.debug ?? silentDebug)(
      `bpftrace ${options.bpftrace.version} (pid ${tracer.sidecarPid}) attached to pid ${options.pid}`,
    );
    return new SyscallSession(tracer, options);
  }

  /** Resolves with an error if bpftrace ends without being asked to (never resolves otherwise). */
  get failed(): Promise<SidecarError> {
    return this.tracer.failed;
  }

  /** The floor in ns actually used. */
  get floorNs(): number {
    return this.tracer.floorNs;
  }

  /**
   * Resolves with `"exit"` once the traced process has exited and its last calls have
   * arrived, or with the error when bpftrace fails first. `processExit`: the status of a
   * process wrapp started (then {@linkcode SyscallTracer.drained} follows it); without
   * it, bpftrace's own sighting of the exit.
   */
  ended(processExit?: Promise<unknown>): Promise<"exit" | SidecarError> {
    const exited = processExit
      ? processExit.then(() => this.tracer.drained())
      : this.tracer.rootExited;
    return Promise.race([exited.then(() => "exit" as const), this.tracer.failed]);
  }

  /**
   * Once the traced process is known to have exited, wait until its last calls arrived
   * (see {@linkcode SyscallTracer.drained}).
   */
  drained(maxWaitMs?: number): Promise<void> {
    return this.tracer.drained(maxWaitMs);
  }

  /**
   * Stop bpftrace and return the summary (the tracer emits the `total` event). With
   * `exited`, the traced process is known to be gone: its last calls are waited for
   * first. Idempotent.
   */
  async stop(options: { exited?: boolean } = {}): Promise<TraceSummary> {
    if (options.exited) await this.tracer.drained();
    return await this.tracer.stop();
  }

  /** Stop, whatever state the trace is in, ignoring failures (cleanup on the way out). */
  async close(): Promise<void> {
    await this.tracer.stop().catch(() => {});
  }
}

/**
 * The fields a trace adds to its `exit` status event: calls, errors, anomalies and lost
 * events (zeros when there is no summary: the trace never started).
 */
export function summaryStatusFields(summary: TraceSummary | undefined): {
  calls: number;
  errors: number;
  anomalies: number;
  lost_events: number;
} {
  return {
    calls: summary?.calls ?? 0,
    errors: summary?.errors ?? 0,
    anomalies: summary?.anomalyCount ?? 0,
    lost_events: summary?.lostEvents ?? 0,
  };
}
