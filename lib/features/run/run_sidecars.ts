/**
 * The sidecars of one run: the syscall tracer of `[trace]` and the memory profile of
 * `[memprof]`. Their code loads with `import()`, only for a service that has them.
 *
 * @module
 */

import { describeExit, type ExitStatus } from "../../core/signals.ts";
import type { Router } from "../../pipeline/router.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/** The sidecars of a run, starting. */
export interface RunSidecars {
  /** Settles once every sidecar has started (rejects when one could not). */
  started(): Promise<unknown>;
  /** After the run: the tracer's last calls and summary, memprof's final snapshot. */
  stop(exit: ExitStatus): Promise<void>;
}

/** Start the sidecars the config asks for on `pid` (not awaited: see `started()`). */
export function startRunSidecars(
  context: SupervisionContext,
  pid: number,
  options: { router: Router; command: string },
): RunSidecars {
  const { config, debug } = context;
  const { router } = options;
  const trace = config.trace;
  const tracer = trace &&
    import("./service_trace.ts").then(({ startServiceTrace }) =>
      startServiceTrace(trace, pid, {
        emit: (event) => router.emit(event),
        notice: (text) => context.notice(text),
        debug,
      })
    );
  const memprofConfig = config.memprof;
  const memprof = memprofConfig &&
    import("../memprof/mod.ts").then(({ startServiceMemprof }) =>
      startServiceMemprof(memprofConfig, pid, {
        router,
        stream: config.app.streamName,
        command: options.command,
        notice: (text) => context.notice(text),
        debug,
      })
    );
  return {
    // Made when asked: a rejection nobody awaits yet stays with the sidecar's own promise.
    started: () => Promise.all([tracer, memprof]),
    async stop(exit) {
      const serviceTracer = await tracer;
      await serviceTracer?.drained(); // its last calls, still in bpftrace's buffers
      await serviceTracer?.stop(); // emits the run's syscall summary
      await (await memprof)?.stop(describeExit(exit)); // emits the final snapshot
    },
  };
}
