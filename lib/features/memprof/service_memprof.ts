/**
 * The `[memprof]` section of `wrapp run`: the same page-level memory profile as
 * `wrapp memprof`, of the supervised service, with snapshots (counters and the top
 * allocation sites) sent to the run's sinks and, optionally, the browser page served.
 *
 * @module
 */

import type { MemprofConfig } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import type { Router } from "../../pipeline/router.ts";
import { preflight } from "../../pipeline/bpf/preflight.ts";
import { MEMPROF_BPF } from "./memprof_bpf.ts";
import { MemprofSession } from "./memprof_session.ts";
import { type MemprofServer, parseListen, serveMemprof } from "./http_server.ts";
import { memprofToRouter } from "./router_hook.ts";

/** A running profile of one run of the service. */
export interface ServiceMemprof {
  /** The page, when it is served. */
  readonly url?: string;
  /** Stop after the service ended (`exit` describes how): the final snapshot goes to the sinks. */
  stop(exit?: string): Promise<void>;
}

/**
 * Start profiling `pid`. Returns `undefined`, after telling `notice` why, when profiling is
 * impossible (not root, no bpftrace, a missing tracepoint): the service runs unprofiled
 * rather than not at all. A page that cannot be served is only a notice too.
 */
export async function startServiceMemprof(
  memprof: MemprofConfig,
  pid: number,
  options: {
    router: Router;
    /** The service's stream name (`logs:app:<stream>:trace`). */
    stream: string;
    /** The command line, shown on the page. */
    command: string;
    notice: (text: string) => Promise<unknown>;
    debug: DebugLog;
  },
): Promise<ServiceMemprof | undefined> {
  const report = await preflight({ tracepoints: MEMPROF_BPF.tracepoints });
  if (report.problems.length > 0 || !report.bpftrace) {
    await options.notice(`[memprof] is off for this run: ${report.problems.join("; ")}`);
    return undefined;
  }
  let session: MemprofSession;
  try {
    session = await MemprofSession.start({
      pid,
      bpftrace: report.bpftrace.path,
      command: options.command,
      maxPages: memprof.maxPages,
      allPages: memprof.allPages,
      debug: options.debug,
      onSnapshot: memprofToRouter(options.router, {
        stream: options.stream,
        pid,
        top: memprof.top,
        everyMs: memprof.everyMs,
      }),
    });
  } catch (error) {
    await options.notice(`[memprof] is off for this run: ${(error as Error).message}`);
    return undefined;
  }
  let server: MemprofServer | undefined;
  if (memprof.listen !== "") {
    try {
      server = serveMemprof(session, parseListen(memprof.listen));
    } catch (error) {
      await options.notice(`[memprof] serves no page: ${(error as Error).message}`);
    }
  }
  await options.notice(
    `[memprof] profiling the memory of pid ${pid}${server ? ` — ${server.url}` : ""}`,
  );
  return {
    url: server?.url,
    async stop(exit?: string) {
      if (exit !== undefined) session.markExited(exit);
      await session.stop();
      await server?.shutdown().catch(() => {});
    },
  };
}
