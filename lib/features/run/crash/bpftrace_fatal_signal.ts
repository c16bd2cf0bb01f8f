/**
 * The crash watcher's fallback engine: `bpf/fatal_signal.bt` run by bpftrace (a sidecar
 * process), when wrapp cannot load its native programs. Its printf lines and stack values
 * are read back as the same events the native programs send.
 *
 * @module
 */

import type { BpftraceMessage } from "../../../pipeline/bpf/bpftrace_json.ts";
import type { DebugLog } from "../../../core/debug.ts";
import { parseStackKey } from "../../../core/symbols/mem_map.ts";
import { BpftraceSidecar } from "../../../pipeline/sources/bpftrace.ts";
import { type FatalSignalLine, parseFatalSignalLine } from "./fatal_signal_line.ts";
import { FATAL_SIGNAL_PROGRAM, fatalSignalProgramText } from "./fatal_signal_program.ts";
import { findLoader } from "./find_loader.ts";

/** Called with each event of the programs; `addresses` is the user stack of a signal (else empty). */
export type FatalSignalLineHandler = (line: FatalSignalLine, addresses: number[]) => void;

/** The program bpftrace runs, and the loader it hooks (`dev:inode`), if any. */
export interface FatalSignalBpftraceProgram {
  /** The program text. */
  text: string;
  /** The loader whose `_dl_debug_state` the program hooks: wrapp's own. */
  hookedLoaderKey: string | undefined;
}

/**
 * `bpf/fatal_signal.bt` hooking wrapp's own dynamic loader: bpftrace takes integer
 * parameters only, so the loader's path is written into the program. Only that loader is
 * hooked; processes using another one are polled.
 */
export async function fatalSignalBpftraceProgram(): Promise<FatalSignalBpftraceProgram> {
  const own = findLoader(await Deno.readTextFile("/proc/self/maps").catch(() => ""));
  const program = fatalSignalProgramText(own?.path);
  return { text: program.text, hookedLoaderKey: own && program.hooked ? own.key : undefined };
}

/**
 * Reads bpftrace's messages as events for `onLine`: a signal's printf line is held until
 * the stack value printed after it arrives.
 */
export function fatalSignalMessageReader(
  onLine: FatalSignalLineHandler,
): (message: BpftraceMessage) => void {
  let pending: Extract<FatalSignalLine, { kind: "signal" }> | undefined;
  return (message) => {
    if (message.type === "printf") {
      for (const text of message.text.split("\n")) {
        const line = parseFatalSignalLine(text);
        if (line?.kind === "signal") pending = line;
        else if (line !== undefined) onLine(line, []);
      }
    } else if (message.type === "other" && message.kind === "value") {
      const line = pending;
      pending = undefined;
      if (line === undefined || typeof message.data !== "string") return;
      onLine(line, parseStackKey(message.data));
    }
  };
}

/** Options for {@linkcode startFatalSignalSidecar}. */
export interface FatalSignalSidecarOptions {
  /** The bpftrace binary's path. */
  bpftrace: string;
  /** The program text ({@linkcode fatalSignalBpftraceProgram}). */
  program: string;
  /** A process to watch from the start. */
  pid?: number;
  /** A supervisor whose children the program adopts when it resumes them. */
  supervisorPid?: number;
  /** How long compiling and attaching the program may take, ms. */
  startTimeoutMs?: number;
  /** Called with each event of the program. */
  onLine: FatalSignalLineHandler;
  /** Debug logger. */
  debug: DebugLog;
}

/**
 * Start bpftrace with the program and resolve once its probes are attached; throws when
 * it cannot start. Its end, when not asked for, is logged.
 */
export async function startFatalSignalSidecar(
  options: FatalSignalSidecarOptions,
): Promise<BpftraceSidecar> {
  const { debug } = options;
  const sidecar = await BpftraceSidecar.start({
    bpftrace: options.bpftrace,
    program: options.program,
    programName: FATAL_SIGNAL_PROGRAM.name,
    params: [options.pid ?? 0, options.supervisorPid ?? 0],
    // signal(): a process that execs stops until its maps are read.
    unsafe: true,
    env: { BPFTRACE_NO_USER_SYMBOLS: "1" },
    onMessage: fatalSignalMessageReader(options.onLine),
    // bpftrace announces the probes before attaching them; BEGIN runs once they are.
    isReady: (message) =>
      message.type === "printf" && parseFatalSignalLine(message.text)?.kind === "ready",
    startTimeoutMs: options.startTimeoutMs,
    debug,
  });
  void sidecar.exited.then((exit) => {
    if (!exit.requested) {
      debug(`bpftrace (crash backtraces) ended by itself${sidecar.describeFailure()}`);
    }
  });
  return sidecar;
}
