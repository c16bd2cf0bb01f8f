/**
 * Crash and hang reports of a supervised service: the eBPF crash watcher, the report of a
 * run that died from a core-dumping signal, and the backtraces of a hung one. Their code
 * (gdb, bpftrace, core files) loads with `import()` when one is needed.
 *
 * @module
 */

import { now } from "../../core/event.ts";
import type { UserSwitch } from "../../core/run_as_user.ts";
import type { EbpfCrashWatcher } from "./crash/ebpf_backtrace.ts";
import { type CoreLimitPlan, readCoreLimit } from "./crash/core_limit.ts";
import type { HangAlarm } from "./watchdog/service_watchdog.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/**
 * Whether `[crash]` wants the eBPF crash watcher. Not under `[debug]`: gdb sees every
 * signal first; the watcher's stop at exec would be in its way.
 */
export function wantsCrashWatcher(context: SupervisionContext): boolean {
  const { crash, debug } = context.config;
  return crash.enabled && crash.ebpfBacktrace && !debug;
}

/**
 * Start the eBPF crash watcher (root only; otherwise it only says why not). One for every
 * run, so a restart waits for no program to load.
 */
export function startCrashWatcher(context: SupervisionContext): Promise<EbpfCrashWatcher> {
  return import("./crash/ebpf_backtrace.ts").then(({ EbpfCrashWatcher }) =>
    EbpfCrashWatcher.start({
      supervisorPid: Deno.pid,
      debug: context.debug,
      notice: (text) => void context.notice(text),
    })
  );
}

/** Whether a run that ended by `signal` crashed (and `[crash]` wants a report). */
export async function isReportedCrash(
  context: SupervisionContext,
  signal: string | undefined,
): Promise<boolean> {
  return context.config.crash.enabled && signal !== undefined &&
    (await import("./crash/crash_report.ts")).isCrashSignal(signal);
}

/** Find the core, run gdb, and send the crash report to every sink and a summary to stderr. */
export async function reportCrash(
  context: SupervisionContext,
  crashed: { pid: number; signal: string; startedAt: number; endedAt: number },
  run: { userSwitch?: UserSwitch; corePlan?: CoreLimitPlan; watcher?: EbpfCrashWatcher },
): Promise<void> {
  const { app, crash } = context.config;
  const { pid, signal } = crashed;
  context.debug(`pid ${pid} died from ${signal}: capturing a crash report`);
  const { captureCrash, crashEvent } = await import("./crash/crash_report.ts");
  const report = await captureCrash({
    pid,
    uid: run.userSwitch?.account.uid ?? Deno.uid() ?? undefined,
    gid: run.userSwitch?.gid ?? Deno.gid() ?? undefined,
    executable: app.resolvedExecutable,
    cwd: app.cwd,
    signal,
    crashTime: crashed.endedAt,
    startTime: crashed.startedAt,
    coreLimit: run.corePlan?.limit.soft ?? (await readCoreLimit()).soft,
    service: app.streamName,
  }, {
    core: { timeoutMs: crash.coreTimeoutMs, debug: context.debug },
    gdb: { gdb: crash.gdb, timeoutMs: crash.gdbTimeoutMs },
    fallback: run.watcher?.fallback(),
    debug: context.debug,
  });
  const event = crashEvent(report);
  context.emit(event);
  // The summary starts with "wrapp: " already.
  context.stderrLine(event.summary);
}

/**
 * The watchdog fired: take every thread's backtrace of the live service with gdb, send
 * the report to every sink and a summary to stderr. `statusText` is the service's last
 * `STATUS=`; `onDetail` gets what hung, before gdb runs (the run's exit status says it).
 */
export async function reportHang(
  context: SupervisionContext,
  alarm: HangAlarm,
  options: { statusText: () => string | undefined; onDetail: (detail: string) => void },
): Promise<void> {
  const { app, crash } = context.config;
  const { captureHang, describeHang, hangEvent } = await import("./watchdog/hang_report.ts");
  const statusText = options.statusText();
  const info = {
    service: app.streamName,
    pid: alarm.pid,
    executable: app.resolvedExecutable,
    reason: alarm.reason,
    ...(alarm.limitMs !== undefined ? { limitMs: alarm.limitMs } : {}),
    silentMs: alarm.silentMs,
    ...(statusText !== undefined ? { statusText } : {}),
    time: now(),
  };
  const detail = describeHang(info);
  options.onDetail(detail);
  context.status(
    "warning",
    `${app.streamName} (pid ${alarm.pid}) hung: ${detail}; taking its backtraces with gdb`,
    {
      run: context.runId,
      pid: alarm.pid,
      watchdog: alarm.reason,
    },
  );
  const report = await captureHang(info, {
    gdb: { gdb: crash.gdb, timeoutMs: crash.gdbTimeoutMs },
    debug: context.debug,
  });
  const event = hangEvent(report);
  context.emit(event);
  context.stderrLine(event.summary);
}
