/**
 * The `[trace]` section of `wrapp run`: the same syscall tracing as `wrapp trace`, on the
 * supervised service and the children it starts, feeding the run's sinks.
 *
 * @module
 */

import type { TraceConfig } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import { SYSCALLS_PROGRAM } from "../../pipeline/bpf/programs.ts";
import { preflight } from "../../pipeline/bpf/preflight.ts";
import { SyscallTracer } from "../../pipeline/syscalls/syscall_tracer.ts";
import type { AnomalyEvent, SyscallEvent } from "../../pipeline/syscalls/syscall_events.ts";

/**
 * Start tracing `pid`. Returns `undefined`, after telling `notice` why, when tracing is
 * impossible (not root, no bpftrace, no tracefs): the service runs untraced rather than
 * not at all.
 */
export async function startServiceTrace(
  trace: TraceConfig,
  pid: number,
  options: {
    emit: (event: SyscallEvent | AnomalyEvent) => void;
    notice: (text: string) => Promise<unknown>;
    debug: DebugLog;
  },
): Promise<SyscallTracer | undefined> {
  const report = await preflight({ tracepoints: SYSCALLS_PROGRAM.tracepoints });
  if (report.problems.length > 0 || !report.bpftrace) {
    await options.notice(`[trace] is off for this run: ${report.problems.join("; ")}`);
    return undefined;
  }
  try {
    return await SyscallTracer.start({
      pid,
      bpftrace: report.bpftrace.path,
      perThread: trace.perThread,
      floorNs: Math.round(trace.floorMs * 1e6),
      anomaly: {
        thresholdSigma: trace.threshold,
        ...(trace.slowMs === undefined ? {} : { slowNs: Math.round(trace.slowMs * 1e6) }),
      },
      emit: options.emit,
      debug: options.debug,
    });
  } catch (error) {
    await options.notice(`[trace] is off for this run: ${(error as Error).message}`);
    return undefined;
  }
}
