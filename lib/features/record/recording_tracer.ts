/**
 * The tracer of a recording: bpftrace on every thread of the application, its slow calls
 * and intervals drawn into the recording's trace, its events handed to the sinks.
 *
 * @module
 */

import type { DebugLog } from "../../core/debug.ts";
import type { AnomalyEvent, SyscallEvent } from "../../pipeline/syscalls/syscall_events.ts";
import type { SyscallArch } from "../../pipeline/syscalls/syscall_table.ts";
import { SyscallSession } from "../../pipeline/syscalls/syscall_session.ts";
import type { RecordOptions } from "./record_options.ts";
import type { RecordingSinks } from "./recording_sinks.ts";
import type { RecordingTrace } from "./recording_trace.ts";

/** What {@linkcode startRecordingTracer} works with. */
export interface RecordingTracerOptions {
  /** The application's pid. */
  pid: number;
  options: RecordOptions;
  arch: SyscallArch;
  /** The recording's own TEF events. */
  trace: RecordingTrace;
  sinks: RecordingSinks;
  /** The syscall rate of the interval just ended, in calls per second (for the progress bar). */
  rate(callsPerSecond: number): void;
  debug: DebugLog;
}

/** Start bpftrace on `setup.pid`; rejects as {@linkcode SyscallSession.start} does. */
export function startRecordingTracer(setup: RecordingTracerOptions): Promise<SyscallSession> {
  const { options, trace } = setup;
  return SyscallSession.start({
    pid: setup.pid,
    bpftrace: options.bpftrace,
    arch: setup.arch,
    perThread: true,
    floorNs: options.floorNs,
    anomaly: options.anomaly,
    debug: setup.debug,
    emit: (event) => _onTracerEvent(event, setup),
    onSlowCall: (call, start) => trace.slowCall(call, start),
  });
}

function _onTracerEvent(event: SyscallEvent | AnomalyEvent, setup: RecordingTracerOptions): void {
  const { trace, sinks } = setup;
  if (event.kind === "anomaly") {
    trace.anomaly(event);
    sinks.emitToRedis(event);
    return;
  }
  // Every slow call of the second is judged by now: draw them.
  sinks.tef(trace.flush());
  if (event.scope === "interval") {
    sinks.tef(trace.interval(event));
    setup.rate(event.calls / Math.max((event.time - event.startTime) / 1000, 1e-3));
  }
  sinks.emit(event);
}
