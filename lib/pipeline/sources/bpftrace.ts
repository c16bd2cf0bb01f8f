/**
 * A bpftrace process as a source: it runs one embedded program with `-f json`, and every
 * line it prints becomes a {@linkcode BpftraceMessage} handed to a callback.
 *
 * - Only numbers are passed, as positional parameters (`$1`, `$2`…): no user text is ever
 *   pasted into program text. Non-integers are refused with a `RangeError`.
 * - The program is written to a private temporary file (so bpftrace's error messages name
 *   `syscalls.bt:12:5`), removed again when the sidecar stops.
 * - bpftrace runs in its own session, so a terminal's Ctrl-C reaches wrapp only, and wrapp
 *   decides when to stop it: {@linkcode BpftraceSidecar.stop} sends SIGINT, bpftrace runs
 *   `END` and prints its maps, and stop resolves once all of that was delivered (SIGKILL
 *   after `stopTimeoutMs`).
 * - Lost events (`{"type": "lost_events"}`, when the perf buffer overflowed) are counted.
 *
 * @module
 */

import { join } from "../../core/posix_path.ts";
import { type BpftraceMessage, parseBpftraceLine } from "../bpf/bpftrace_json.ts";
import { describeCause, SidecarError } from "../../core/errors.ts";
import { type DebugLog, silentDebug } from "../../core/debug.ts";

/** Options for {@linkcode BpftraceSidecar.start}. */
export interface BpftraceSidecarOptions {
  /** bpftrace binary (absolute path, from the preflight check). */
  bpftrace: string;
  /** Program text. */
  program: string;
  /** File name used in messages and for the temporary copy, e.g. `"syscalls.bt"`. */
  programName: string;
  /** Positional parameters `$1`, `$2`…: integers only. */
  params: readonly number[];
  /** Receives every message, in order, synchronously. */
  onMessage: (message: BpftraceMessage) => void;
  /** Which message means "tracing": default the `attached_probes` message. */
  isReady?: (message: BpftraceMessage) => boolean;
  /** Run with `--unsafe`, for programs that call `signal()`. Default false. */
  unsafe?: boolean;
  /** Extra environment for bpftrace (e.g. `BPFTRACE_MAP_KEYS_MAX`). */
  env?: Readonly<Record<string, string>>;
  /** How long compiling and attaching may take, ms. Default 60000 (LLVM is slow on small boards). */
  startTimeoutMs?: number;
  /** How long bpftrace may take to print its maps after SIGINT, ms, before SIGKILL. Default 10000. */
  stopTimeoutMs?: number;
  /** Debug logger (stderr noise of bpftrace goes here). Default: silent. */
  debug?: DebugLog;
}

/** How bpftrace ended. */
export interface BpftraceExit {
  code: number;
  signal: Deno.Signal | null;
  /** Whether wrapp asked it to stop. */
  requested: boolean;
}

const _STDERR_KEEP_CHARS = 16_384;
/** bpftrace warnings that say nothing about the program: kept for --debug only. */
const _NOISE = [/couldn't set RLIMIT_MEMLOCK/, /^WARNING: /, /^\s*~+\s*$/];

/** A running bpftrace. */
export class BpftraceSidecar {
  /** Its pid. */
  readonly pid: number;
  /** Resolves once bpftrace exited and its whole output was delivered. */
  readonly exited: Promise<BpftraceExit>;

  readonly #child: Deno.ChildProcess;
  readonly #options: BpftraceSidecarOptions;
  readonly #tempDir: string;
  readonly #debug: DebugLog;
  #stderr = "";
  #lostEvents = 0;
  #badLines = 0;
  #stopRequested = false;
  #stopping: Promise<BpftraceExit> | undefined;

  private constructor(
    child: Deno.ChildProcess,
    tempDir: string,
    options: BpftraceSidecarOptions,
    ready: () => void,
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.#tempDir = tempDir;
    this.#options = options;
    this.#debug = options.debug ?? silentDebug;
    const isReady = options.isReady ?? ((m) => m.type === "attached_probes");
    let isUp = false;
    const stdoutDone = this.#readLines(child.stdout, (line) => {
      let message: BpftraceMessage | undefined;
      try {
        message = parseBpftraceLine(line);
      } catch (error) {
        this.#badLines++;
        this.#debug(`bpftrace: ${describeCause(error)}`);
        return;
      }
      if (message === undefined) return;
      if (message.type === "lost_events") this.#lostEvents += message.events;
      if (!isUp && isReady(message)) {
        isUp = true;
        ready();
      }
      try {
        options.onMessage(message);
      } catch (error) {
        // A consumer bug must not stop the reading: bpftrace would block on a full pipe.
        this.#debug(`bpftrace message handler threw: ${describeCause(error)}`);
      }
    });
    const stderrDone = this.#readLines(child.stderr, (line) => {
      if (_NOISE.some((pattern) => pattern.test(line))) {
        this.#debug(`bpftrace: ${line}`);
        return;
      }
      this.#debug(`bpftrace stderr: ${line}`);
      this.#stderr = (this.#stderr + line + "\n").slice(-_STDERR_KEEP_CHARS);
    });
    this.exited = (async () => {
      const status = await child.status;
      await Promise.allSettled([stdoutDone, stderrDone]);
      await Deno.remove(tempDir, { recursive: true }).catch(() => {});
      return { code: status.code, signal: status.signal, requested: this.#stopRequested };
    })();
  }

  /**
   * Write the program to a private temporary file, start `bpftrace -f json FILE PARAMS…`
   * and resolve once it is ready. Throws a `RangeError` for a non-integer parameter and
   * a {@linkcode SidecarError} when bpftrace exits or times out before being ready, with
   * what it printed on stderr.
   */
  static async start(options: BpftraceSidecarOptions): Promise<BpftraceSidecar> {
    for (const [index, value] of options.params.entries()) {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(
          `Invalid bpftrace parameter $${
            index + 1
          } = ${value}: only integers are passed to bpftrace programs`,
        );
      }
    }
    if (!/^[\w.-]+$/.test(options.programName)) {
      throw new RangeError(`Invalid program name "${options.programName}"`);
    }
    const tempDir = await Deno.makeTempDir({ prefix: "wrapp-bpf-" });
    const file = join(tempDir, options.programName);
    await Deno.writeTextFile(file, options.program, { mode: 0o600 });
    const args = [
      "-f",
      "json",
      ...(options.unsafe ? ["--unsafe"] : []),
      file,
      ...options.params.map((n) => String(n)),
    ];
    options.debug?.(`starting ${options.bpftrace} ${args.join(" ")}`);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(options.bpftrace, {
        args,
        env: { ...options.env },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      await Deno.remove(tempDir, { recursive: true }).catch(() => {});
      throw new SidecarError(
        `Cannot start bpftrace "${options.bpftrace}": ${describeCause(error)}`,
        { cause: error },
      );
    }
    const ready = Promise.withResolvers<void>();
    const sidecar = new BpftraceSidecar(child, tempDir, options, ready.resolve);
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      ready.promise.then(() => "ready" as const),
      sidecar.exited.then(() => "exited" as const),
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (outcome === "ready") return sidecar;
    if (outcome === "timeout") await sidecar.stop();
    const exit = await sidecar.exited;
    const why = outcome === "timeout"
      ? `it was not ready after ${timeoutMs} ms`
      : exit.signal
      ? `it was killed by ${exit.signal}`
      : `it exited with code ${exit.code}`;
    throw new SidecarError(
      `bpftrace could not run ${options.programName}: ${why}${sidecar.#stderrSummary()}`,
    );
  }

  /** Events bpftrace reported lost so far (perf buffer overflows). */
  get lostEvents(): number {
    return this.#lostEvents;
  }

  /** Output lines that were not bpftrace JSON (a bug somewhere; logged under --debug). */
  get badLines(): number {
    return this.#badLines;
  }

  /** What bpftrace printed on stderr, less known noise (last 16 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Ask bpftrace to finish (SIGINT: it runs `END` and prints its maps) and resolve once
   * it exited and everything it printed was delivered. SIGKILL after `stopTimeoutMs`.
   * Idempotent.
   */
  stop(): Promise<BpftraceExit> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** `": <stderr>"` when bpftrace said something, for error messages. */
  describeFailure(): string {
    return this.#stderrSummary();
  }

  async #stop(): Promise<BpftraceExit> {
    this.#stopRequested = true;
    try {
      this.#child.kill("SIGINT");
    } catch {
      // Already gone.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#debug(
          `bpftrace did not stop within ${this.#options.stopTimeoutMs ?? 10_000} ms: SIGKILL`,
        );
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        resolve();
      }, this.#options.stopTimeoutMs ?? 10_000);
    });
    const exit = await Promise.race([this.exited, killed.then(() => this.exited)]);
    clearTimeout(timer);
    return exit;
  }

  #stderrSummary(): string {
    const text = this.#stderr.trim();
    if (text === "") return "";
    const lines = text.split("\n");
    return `: ${lines.slice(-12).join("\n")}`;
  }

  async #readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    }
    rest += decoder.decode();
    if (rest !== "") onLine(rest);
  }
}
