/**
 * Taking a service held before its exec to its first instruction for a debugger, with
 * gdbserver over its stdin/stdout (`gdb_remote.ts`), and settling it for the debugger
 * that comes next. See `service_debug.ts` for why it goes this way.
 *
 * @module
 */

import type { DebugConfig } from "../../core/config/config.ts";
import type { DebugLog } from "../../core/debug.ts";
import { SidecarError } from "../../core/errors.ts";
import {
  GDB_SIGNAL_CONT,
  GDB_SIGNAL_STOP,
  GDB_SIGNAL_TRAP,
  GdbRemote,
  type StopReply,
} from "./gdb_remote.ts";
import {
  explainGdbserver,
  isGone,
  killProcess,
  raceTimeout,
  readLines,
  spawnGdbserver,
} from "./gdbserver_process.ts";

/**
 * Steps 1 and 2 of `service_debug.ts`'s documentation: resolve to the program `pid` runs after its
 * exec, stopped at its first instruction and traced by nobody; `undefined` when it ended
 * before.
 */
export async function stepThroughExec(
  gdbserverPath: string,
  pid: number,
  options: { timeoutMs: number; log: DebugLog },
): Promise<string | undefined> {
  const gdbserver = await spawnGdbserver(gdbserverPath, ["--attach", "-", String(pid)], {
    stdin: "piped",
    stdout: "piped",
  });
  const said: string[] = [];
  const lines = readLines(gdbserver.stderr, (line) => {
    options.log(`gdbserver (exec): ${line}`);
    said.push(line);
  });
  const remote = new GdbRemote(gdbserver.stdout!, gdbserver.stdin!);
  const resume = async (request: string) => {
    const stop = await remote.resume(request);
    options.log(`gdbserver (exec): ${request} -> ${JSON.stringify(stop)}`);
    return stop;
  };
  const steps = async (): Promise<string | undefined> => {
    await remote.request("qSupported:multiprocess+;exec-events+");
    const first = await remote.request("?");
    if (/^[WX]/.test(first)) return undefined;
    let stop = await resume("c");
    // The shell's own SIGSTOP shows up once; other signals are passed on. The exec is an
    // exec event, or a plain SIGTRAP when gdbserver had not yet set its ptrace options
    // (it sets them lazily: both happen); nothing else traps in the shell.
    while (stop.kind === "stopped" && stop.exec === undefined && stop.signal !== GDB_SIGNAL_TRAP) {
      stop = await resume(_resumeWith(stop));
    }
    if (stop.kind !== "stopped") return undefined;
    const program = stop.exec ?? await Deno.readLink(`/proc/${pid}/exe`);
    // Delivered before the first instruction runs; detaching then leaves it stopped.
    Deno.kill(pid, "SIGSTOP");
    stop = await resume("c");
    while (stop.kind === "stopped" && stop.signal !== GDB_SIGNAL_STOP) {
      stop = await resume(_resumeWith(stop));
    }
    if (stop.kind !== "stopped") return undefined;
    await remote.request(`D;${pid.toString(16)}`);
    return program;
  };
  let outcome: string | undefined | "timeout";
  try {
    outcome = await raceTimeout([steps()], options.timeoutMs);
  } catch (error) {
    options.log(`gdbserver (exec): ${(error as Error).message}`);
    killProcess(gdbserver);
    await gdbserver.status;
    await lines;
    const ended = await isGone(pid);
    if (ended) return undefined;
    throw new SidecarError(
      `Cannot attach gdbserver to pid ${pid}: ${
        said.length > 0 ? explainGdbserver(said, pid) : (error as Error).message
      }`,
      { cause: error },
    );
  } finally {
    await remote.close();
  }
  if (outcome === "timeout") {
    killProcess(gdbserver);
    await gdbserver.status;
    await lines;
    throw new SidecarError(
      `Cannot attach gdbserver to pid ${pid}: it did not reach its exec within ${options.timeoutMs} ms`,
    );
  }
  await gdbserver.status;
  await lines;
  return outcome;
}

/**
 * Step 4, as gdbserver's first client on `debug.host:debug.port`. gdbserver attached to a
 * process in a job-control stop finds a SIGSTOP pending, which a debugger would pass on
 * at its first `continue`, stopping the service again and again. SIGCONT ends the stop
 * and discards that SIGSTOP; being traced, the service is not resumed but gets the
 * SIGCONT queued, which is taken here (the stops before it too), before its first
 * instruction runs.
 */
export async function settleForDebugger(debug: DebugConfig, pid: number): Promise<void> {
  const hostname = debug.host === "0.0.0.0"
    ? "127.0.0.1"
    : /^\[?::\]?$/.test(debug.host)
    ? "::1"
    : debug.host.replace(/^\[(.*)\]$/, "$1");
  const connection = await Deno.connect({ hostname, port: debug.port });
  const remote = new GdbRemote(connection.readable, connection.writable);
  try {
    await remote.request("qSupported:multiprocess+");
    await remote.request("?");
    Deno.kill(pid, "SIGCONT");
    for (let stops = 0; stops < 8; stops++) {
      const stop = await remote.resume("c");
      if (stop.kind !== "stopped") throw new Error(`the service ended (${JSON.stringify(stop)})`);
      if (stop.signal === GDB_SIGNAL_CONT) return;
    }
    throw new Error("the SIGCONT never came back");
  } finally {
    await remote.close();
  }
}

/** `c`, or `Cxx` to pass on a signal that is not the hold's SIGSTOP (or a trap of ours). */
function _resumeWith(stop: Extract<StopReply, { kind: "stopped" }>): string {
  return stop.signal === GDB_SIGNAL_STOP || stop.signal === GDB_SIGNAL_TRAP || stop.signal === 0
    ? "c"
    : `C${stop.signal.toString(16).padStart(2, "0")}`;
}
