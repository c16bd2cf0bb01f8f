/**
 * `[debug]` in a supervised run: the held child taken to its first instruction with
 * gdbserver attached, and everyone told how to connect. `service_debug.ts` (and gdb's
 * protocol) loads with `import()` only then.
 *
 * @module
 */

import type { RunningChild } from "../../pipeline/sources/child_process.ts";
import type { ServiceDebug } from "./service_debug.ts";
import type { SupervisionContext } from "./supervision_context.ts";

/**
 * Take the held child to its first instruction and attach gdbserver. When that fails,
 * the child is killed, an exit status says why, and the error ends the run. `undefined`
 * when the child ended before its exec (its exit says why).
 */
export async function startDebugSession(
  context: SupervisionContext,
  child: RunningChild,
  gdbserver: string,
): Promise<ServiceDebug | undefined> {
  const { app, debug } = context.config;
  try {
    const { ServiceDebug } = await import("./service_debug.ts");
    return await ServiceDebug.start(debug!, child.pid, {
      gdbserver,
      name: app.streamName,
      debug: context.debug,
      onNews: (message, fields) => {
        context.status("info", message, { run: context.runId, ...fields });
        void context.notice(message);
      },
    });
  } catch (error) {
    child.signalGroup("SIGKILL");
    await child.status;
    context.status("exit", `could not debug ${app.streamName}: ${(error as Error).message}`, {
      run: context.runId,
      pid: child.pid,
    });
    throw error;
  }
}

/** Tell stderr and every sink where gdbserver listens and how to connect. */
export async function announceDebugSession(
  context: SupervisionContext,
  child: RunningChild,
  session: ServiceDebug,
): Promise<void> {
  const { app } = context.config;
  const steps = session.instructions();
  const intro =
    `${app.streamName} (pid ${child.pid}) waits at its first instruction for a debugger; gdbserver listens on ${session.address}`;
  context.status("info", `${intro}. Connect with: ${steps.join("; ")}`, {
    run: context.runId,
    pid: child.pid,
    gdbserver_pid: session.gdbserverPid,
    debug_address: session.address,
    program: session.program,
  });
  await context.notice(
    [`${intro}. Connect with:`, ...steps.map((s) => `  ${s}`)].join("\nwrapp: "),
  );
}
