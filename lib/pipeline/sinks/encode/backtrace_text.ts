/**
 * Backtraces as text for people, shared by crash and hang reports: gdb-style frame lines,
 * thread listings, the program line, and the short names (`abort()`) that summaries and
 * trace events use, skipping the C library's own frames.
 *
 * @module
 */

import type { StackFrame, StackThread } from "../../../core/events/stack.ts";

const _SYSTEM_FUNCTIONS = new Set([
  "raise",
  "abort",
  "gsignal",
  "pthread_kill",
  "start_thread",
  "clone",
  "clone3",
  "_start",
  "<signal handler called>",
]);

/**
 * Whether a frame is inside the C library or the kernel's signal trampoline rather than
 * the program: glibc internals (`__pthread_kill_implementation`, `__GI_raise`), frames
 * from `/lib`, `/usr/lib`, and glibc's own source paths (`./nptl/…`, `../sysdeps/…`).
 */
export function isSystemFrame(frame: StackFrame): boolean {
  if (_SYSTEM_FUNCTIONS.has(frame.function) || frame.function.startsWith("__")) return true;
  if (frame.library !== undefined && /^\/(usr\/)?lib(32|64)?\//.test(frame.library)) return true;
  return frame.file !== undefined &&
    /^\.{1,2}\/(sysdeps|nptl|stdlib|assert|signal|csu|libio|malloc|string|posix|misc)\//.test(
      frame.file,
    );
}

/** `#1 0x0000558f192be176 level_one (p=0x0) at segv.c:3`. */
export function formatFrame(frame: StackFrame): string {
  const address = frame.address ? ` ${frame.address}` : "";
  const args = frame.function.startsWith("<") ? "" : ` (${frame.args ?? ""})`;
  const where = frame.file !== undefined
    ? ` at ${frame.file}${frame.line !== undefined ? `:${frame.line}` : ""}`
    : frame.library !== undefined
    ? ` from ${frame.library}`
    : "";
  return `#${frame.index}${address} ${frame.function}${args}${where}`;
}

/**
 * A frame's short name in a crash: `abort()` for glibc's `__GI_abort`, `pause()` for
 * `__libc_pause`, an unknown function by its address, `<signal handler called>` as it is.
 */
export function crashFrameName(frame: StackFrame): string {
  if (frame.function === "??") return frame.address ?? "??";
  if (frame.function.startsWith("<")) return frame.function;
  return `${frame.function.replace(/^__GI_/, "").replace(/^__libc_(?=[a-z])/, "")}()`;
}

/**
 * A frame's short name in a hang, where the stuck call is named after what the program
 * called: every leading `_` goes too (`pthread_mutex_lock()` for `___pthread_mutex_lock`).
 */
export function hangFrameName(frame: StackFrame): string {
  if (frame.function === "??") return frame.address ?? "??";
  if (frame.function.startsWith("<")) return frame.function;
  const name = frame.function.replace(/^__GI_/, "").replace(/^_+(?=[a-z])/, "");
  return `${name.replace(/^libc_(?=[a-z])/, "")}()`;
}

/** The first frame of the program's own code (past the C library), else the innermost one. */
export function topOwnFrame(frames: readonly StackFrame[]): StackFrame | undefined {
  return frames.find((f) => !isSystemFrame(f)) ?? frames[0];
}

/**
 * Where a thread is, for a one-line summary: ` in abort() at fail_now() ← main()` (the
 * last C library frame, then `count` frames of the program), `""` without frames.
 */
export function describeCallSite(
  frames: readonly StackFrame[],
  count: number,
  frameName: (frame: StackFrame) => string,
): string {
  if (frames.length === 0) return "";
  const firstOwn = frames.findIndex((f) => !isSystemFrame(f));
  const start = firstOwn === -1 ? 0 : firstOwn;
  const shown = frames.slice(start, start + count).map(frameName);
  const inside = start > 0 ? ` in ${frameName(frames[start - 1])}` : "";
  return `${inside} at ${shown.join(" ← ")}`;
}

/** `program /usr/bin/python3.11 (running /opt/svc), build-id 0123…, x86_64`. */
export function programLine(
  report: { image: string; executable: string; buildId?: string; machine?: string },
): string {
  return `program ${report.image}${
    report.image !== report.executable ? ` (running ${report.executable})` : ""
  }${report.buildId ? `, build-id ${report.buildId}` : ""}${
    report.machine ? `, ${report.machine}` : ""
  }`;
}

/**
 * Every thread with its frames, as lines: a blank line, `Thread 2 (LWP 4250 "worker"):`
 * (`, crashed` after the crashed one when `markCrashed`), then at most `maxFrames`
 * frames and how many more there were.
 */
export function threadLines(
  threads: readonly StackThread[],
  options: { maxFrames: number; markCrashed: boolean },
): string[] {
  const lines: string[] = [];
  for (const thread of threads) {
    const name = thread.name !== undefined ? ` "${thread.name}"` : "";
    const lwp = thread.lwp !== undefined ? ` (LWP ${thread.lwp}${name})` : name;
    const crashed = options.markCrashed && thread.crashed ? ", crashed" : "";
    lines.push("", `Thread ${thread.number}${lwp}${crashed}:`);
    for (const frame of thread.frames.slice(0, options.maxFrames)) {
      lines.push(`  ${formatFrame(frame)}`);
    }
    if (thread.frames.length > options.maxFrames) {
      lines.push(`  … ${thread.frames.length - options.maxFrames} more frames`);
    }
  }
  return lines;
}
