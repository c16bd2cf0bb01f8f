/**
 * The `[trace]` section of `wrapp run`: the same syscall tracing session as `wrapp trace`,
 * on the supervised service and the children it starts, feeding the run's sinks.
 *
 * @module
 */

import type { TraceConfig } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import { checkSyscallTracing, SyscallSession } from "../../pipeline/syscalls/syscall_session.ts";
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
): Promise<SyscallSession | undefined> {
  const report = await checkSyscallTracing();
  if (report.problems.length > 0 || !report.bpftrace) {
    await options.notice(`[trace] is off for this run: ${report.problems.join("; ")}`);
    return undefined;
  }
  try {
    return await SyscallSession.start({
      pid,
      bpftrace: report.bpftrace,
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
