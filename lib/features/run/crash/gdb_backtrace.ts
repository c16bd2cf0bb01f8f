/**
 * A backtrace of every thread of a core dump, from `gdb -batch`, with a time limit.
 *
 * gdb runs `thread apply all bt full`, `info registers`, `x/i $pc` and prints the
 * fault address from `$_siginfo`; wrapp separates the sections with `echo` markers and
 * parses the frames. The raw text is kept too (bounded), since it is what a developer
 * reads first.
 *
 * @module
 */

import { describeCause, WrappError } from "../../../core/errors.ts";
import { findProgram } from "../../../core/find_executable.ts";
import { setLongTimeout } from "../../../core/long_timeout.ts";
import { boundText } from "../../../core/bound_text.ts";
import type { StackFrame, StackThread } from "../../../core/events/stack.ts";

export type { StackFrame, StackThread };

/** gdb's time limit when {@linkcode RunGdbOptions.timeoutMs} is not given, ms. */
export const DEFAULT_GDB_TIMEOUT_MS = 30_000;

/** What {@linkcode runGdb} returns. */
export interface GdbBacktrace {
  /** Every thread, the crashed one first. */
  threads: StackThread[];
  /** `info registers` of the crashed thread, as printed. */
  registers?: string;
  /** The faulting instruction from `x/i $pc`: `0x55… <crash_here+12>:\tmovl   $0x2a,(%rax)`. */
  instruction?: string;
  /** `$_siginfo._sifields._sigfault.si_addr`: the address that faulted (meaningful for SIGSEGV, SIGBUS, SIGILL, SIGFPE). */
  faultAddress?: string;
  /** gdb's `Program terminated with signal SIGSEGV, Segmentation fault`. */
  terminatedBy?: string;
  /** gdb's warnings and errors (deduplicated), e.g. `core file may not match specified executable file`. */
  warnings: string[];
  /** gdb's output with section headings, cut to `maxRawBytes`. */
  raw: string;
  /** Whether `raw` was cut. */
  rawTruncated: boolean;
  /** Whether gdb was killed at the time limit (the result holds what it printed until then). */
  timedOut: boolean;
  /** gdb's exit code (`undefined` when killed). */
  exitCode?: number;
  /** How long gdb ran, ms. */
  durationMs: number;
}

/** Options for {@linkcode runGdb}. */
export interface RunGdbOptions {
  /** The gdb program. Default `"gdb"` (looked up in PATH). */
  gdb?: string;
  /** Time limit; gdb is killed (SIGKILL) when it is reached. Default 30000 ms. */
  timeoutMs?: number;
  /** Largest raw text kept in the result, in bytes. Default 262144 (256 KiB). */
  maxRawBytes?: number;
  /** Largest output read from gdb for parsing; the rest is discarded. Default 16 MiB. */
  maxOutputBytes?: number;
}

/** Section markers wrapp asks gdb to echo between its commands. */
const _MARK = "@@wrapp:";
const _SECTIONS = ["threads", "registers", "instruction", "siginfo", "end"] as const;
type _Section = typeof _SECTIONS[number];
const _HEADINGS: Record<_Section, string> = {
  threads: "--- backtrace of every thread ---",
  registers: "--- registers ---",
  instruction: "--- faulting instruction ---",
  siginfo: "--- fault address ---",
  end: "",
};

// Batch mode, no init files, no debuginfod download, nothing paged or wrapped: the same for
// a core and a live process.
const _GDB_PREAMBLE = [
  "-batch",
  "-nx",
  "-iex",
  "set debuginfod enabled off",
  "-ex",
  "set pagination off",
  "-ex",
  "set width 0",
];

/** gdb commands that print a line marking where `section` of the output begins. */
function _mark(section: _Section): string[] {
  return ["-ex", `echo \\n${_MARK}${section}@@\\n`];
}

/** The gdb arguments wrapp uses, for logs and tests. */
export function gdbArguments(executable: string, core: string): string[] {
  return [
    ..._GDB_PREAMBLE,
    ..._mark("threads"),
    "-ex",
    "thread",
    "-ex",
    "thread apply all bt full",
    ..._mark("registers"),
    "-ex",
    "info registers",
    ..._mark("instruction"),
    "-ex",
    "x/i $pc",
    ..._mark("siginfo"),
    "-ex",
    "print/x $_siginfo._sifields._sigfault.si_addr",
    ..._mark("end"),
    executable,
    core,
  ];
}

/**
 * Run gdb on a core and parse what it prints. Throws {@linkcode WrappError} only when gdb
 * cannot be started (`Cannot run "gdb": no such file or directory`); a gdb that fails
 * or times out yields a result with its warnings and `timedOut`.
 */
export function runGdb(
  executable: string,
  core: string,
  options: RunGdbOptions = {},
): Promise<GdbBacktrace> {
  return _runGdb(gdbArguments(executable, core), options);
}

/**
 * The gdb arguments that attach to the live process `pid` and print every thread's
 * backtrace (`gdb -p PID -batch -ex "thread apply all bt"`); gdb detaches when it is done,
 * leaving the process as it found it.
 */
export function gdbAttachArguments(pid: number): string[] {
  return [
    ..._GDB_PREAMBLE,
    ..._mark("threads"),
    "-ex",
    "thread",
    "-ex",
    "thread apply all bt",
    ..._mark("end"),
    "-p",
    String(pid),
  ];
}

/**
 * Attach gdb to the running process `pid`, take every thread's backtrace and detach: where
 * a hung process is stuck. Throws like {@linkcode runGdb}; a gdb that may not attach
 * (`ptrace: Operation not permitted`) yields no threads and says so in `warnings`.
 */
export function attachGdb(pid: number, options: RunGdbOptions = {}): Promise<GdbBacktrace> {
  return _runGdb(gdbAttachArguments(pid), options);
}

async function _runGdb(args: string[], options: RunGdbOptions): Promise<GdbBacktrace> {
  const gdb = options.gdb ?? "gdb";
  const timeoutMs = options.timeoutMs ?? DEFAULT_GDB_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? 16 << 20;
  const started = performance.now();
  const program = await findProgram(gdb);
  if (program === undefined) {
    throw new WrappError(`Cannot run "${gdb}": no such file or directory (install gdb)`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // English messages for the parser; no network lookups for debug info.
      env: { LC_ALL: "C", LANG: "C", DEBUGINFOD_URLS: "" },
    }).spawn();
  } catch (error) {
    throw new WrappError(`Cannot run "${gdb}": ${describeCause(error)}`, { cause: error });
  }
  let timedOut = false;
  // gdb_timeout may be longer than setTimeout can wait.
  const timer = setLongTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const [stdout, stderr, status] = await Promise.all([
      _readBounded(child.stdout, maxOutput),
      _readBounded(child.stderr, 1 << 20),
      child.status,
    ]);
    const parsed = parseGdbOutput(stdout, stderr, { maxRawBytes: options.maxRawBytes });
    return {
      ...parsed,
      timedOut,
      exitCode: timedOut ? undefined : status.code,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    timer.clear();
  }
}

/** The parts of {@linkcode GdbBacktrace} that come from gdb's text. */
export type ParsedGdbOutput = Omit<GdbBacktrace, "timedOut" | "exitCode" | "durationMs">;

/** Parse the stdout (and stderr) of gdb run with {@linkcode gdbArguments}. */
export function parseGdbOutput(
  stdout: string,
  stderr = "",
  options: { maxRawBytes?: number } = {},
): ParsedGdbOutput {
  const sections = _splitSections(stdout);
  const preamble = sections.get("preamble") ?? "";
  // gdb's own messages: "warning:" lines in stdout, and everything in stderr except the
  // source lines it echoes ("44\t./nptl/pthread_kill.c: No such file or directory.").
  const warnings = new Set<string>();
  const stdoutWarnings = `${preamble}\n${sections.get("threads") ?? ""}`.split("\n")
    .filter((line) => /^warning:\s/.test(line.trim()));
  for (const line of [...stdoutWarnings, ...stderr.split("\n")]) {
    const trimmed = line.trim();
    if (trimmed === "" || /^\d+\s/.test(trimmed)) continue;
    warnings.add(trimmed.replace(/^warning:\s*/, ""));
  }
  const threads = parseThreads(sections.get("threads") ?? "");
  const registers = (sections.get("registers") ?? "").trim();
  const instruction = /^=>\s*(.+)$/m.exec(sections.get("instruction") ?? "")?.[1]?.trim();
  const faultAddress = /^\$\d+ = (0x[0-9a-f]+)/m.exec(sections.get("siginfo") ?? "")?.[1];
  const terminatedBy = /^Program terminated with (signal .+?)\.?$/m.exec(preamble)?.[1];
  const raw = boundText(_withHeadings(stdout), options.maxRawBytes ?? 256 << 10);
  return {
    threads,
    registers: registers === "" || /^The program has no registers/.test(registers)
      ? undefined
      : registers,
    instruction,
    faultAddress,
    terminatedBy,
    warnings: [...warnings].slice(0, 50),
    raw: raw.text,
    rawTruncated: raw.truncated,
  };
}

/**
 * Parse the output of `thread` + `thread apply all bt full`: thread headers
 * `Thread 2 (Thread 0x7f… (LWP 11518) "worker"):`, frames `#0  0x… in f (a=1) at x.c:4`,
 * and the indented locals after each frame. The current thread (`[Current thread is 1 …]`)
 * is marked as crashed and put first. Output without thread headers is one thread.
 */
export function parseThreads(text: string): StackThread[] {
  const current = Number(/\[Current thread is (\d+)/.exec(text)?.[1] ?? NaN);
  const threads: StackThread[] = [];
  let thread: StackThread | undefined;
  let frame: StackFrame | undefined;
  for (const line of text.split("\n")) {
    const header = /^Thread (\d+) \((.*)\):\s*$/.exec(line);
    if (header) {
      const description = header[2];
      const lwp = /\bLWP (\d+)/.exec(description)?.[1];
      const name = /"((?:[^"\\]|\\.)*)"\)?\s*$/.exec(description)?.[1];
      thread = {
        number: Number(header[1]),
        ...(lwp !== undefined ? { lwp: Number(lwp) } : {}),
        ...(name !== undefined ? { name } : {}),
        crashed: Number(header[1]) === current,
        frames: [],
      };
      threads.push(thread);
      frame = undefined;
      continue;
    }
    const parsed = parseFrameLine(line);
    if (parsed) {
      if (!thread) {
        thread = { number: Number.isNaN(current) ? 1 : current, crashed: true, frames: [] };
        threads.push(thread);
      }
      frame = parsed;
      thread.frames.push(frame);
      continue;
    }
    if (frame && /^\s{4,}\S/.test(line)) {
      (frame.locals ??= []).push(line.trim());
    }
  }
  if (threads.length > 0 && !threads.some((t) => t.crashed)) threads[0].crashed = true;
  return [...threads.filter((t) => t.crashed), ...threads.filter((t) => !t.crashed)];
}

/**
 * Parse one frame line of `bt`:
 * `#1  0x000055be02c8a185 in fail_now () at abrt.c:5`,
 * `#0  __pthread_kill_implementation (no_tid=0, …) at ./nptl/pthread_kill.c:44`,
 * `#2  0x00007f… in abort () from /lib/x86_64-linux-gnu/libc.so.6`,
 * `#4  <signal handler called>`. Returns `undefined` for other lines.
 */
export function parseFrameLine(line: string): StackFrame | undefined {
  const match = /^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(.*?)\s*$/.exec(line);
  if (!match) return undefined;
  const frame: StackFrame = { index: Number(match[1]), function: "??" };
  if (match[2] !== undefined) frame.address = match[2];
  let rest = match[3];
  if (rest.startsWith("<")) {
    frame.function = rest;
    return frame;
  }
  const at = / at (\S+):(\d+)$/.exec(rest);
  if (at) {
    frame.file = at[1];
    frame.line = Number(at[2]);
    rest = rest.slice(0, at.index);
  } else {
    const from = / from (\S+)$/.exec(rest);
    if (from) {
      frame.library = from[1];
      rest = rest.slice(0, from.index);
    }
  }
  // The argument list is the last balanced (...) group; C++ names may hold parentheses too.
  if (rest.endsWith(")")) {
    let depth = 0;
    for (let i = rest.length - 1; i >= 0; i--) {
      if (rest[i] === ")") depth++;
      else if (rest[i] === "(" && --depth === 0) {
        const name = rest.slice(0, i).trim();
        if (name !== "") {
          frame.function = name;
          const args = rest.slice(i + 1, -1).trim();
          if (args !== "") frame.args = args;
          return frame;
        }
        break;
      }
    }
  }
  if (rest.trim() !== "") frame.function = rest.trim();
  return frame;
}

function _splitSections(stdout: string): Map<_Section | "preamble", string> {
  const sections = new Map<_Section | "preamble", string>();
  let name: _Section | "preamble" = "preamble";
  let lines: string[] = [];
  for (const line of stdout.split("\n")) {
    const mark = new RegExp(`^${_MARK}(\\w+)@@$`).exec(line.trim());
    if (mark && (_SECTIONS as readonly string[]).includes(mark[1])) {
      sections.set(name, lines.join("\n"));
      name = mark[1] as _Section;
      lines = [];
      continue;
    }
    lines.push(line);
  }
  sections.set(name, lines.join("\n"));
  return sections;
}

function _withHeadings(stdout: string): string {
  const marker = new RegExp(`^${_MARK}(\\w+)@@$`);
  const lines = stdout.split("\n").map((line) => {
    const section = marker.exec(line.trim())?.[1] as _Section | undefined;
    return section === undefined ? line : _HEADINGS[section] ?? line;
  });
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim() + "\n";
}

async function _readBounded(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let dropped = 0;
  for await (const chunk of stream) {
    if (kept >= maxBytes) {
      dropped += chunk.length;
      continue;
    }
    const part = chunk.subarray(0, maxBytes - kept);
    chunks.push(part);
    kept += part.length;
    dropped += chunk.length - part.length;
  }
  const all = new Uint8Array(kept);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  const text = new TextDecoder().decode(all);
  return dropped > 0 ? `${text}\n… [${dropped} more bytes of gdb output not read]\n` : text;
}
