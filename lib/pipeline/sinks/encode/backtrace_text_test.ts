import assert from "node:assert/strict";
import type { StackFrame } from "../../../core/events/stack.ts";
import {
  crashFrameName,
  describeCallSite,
  formatFrame,
  hangFrameName,
  isSystemFrame,
  programLine,
  threadLines,
  topOwnFrame,
} from "./backtrace_text.ts";

function frame(index: number, fn: string, extra: Partial<StackFrame> = {}): StackFrame {
  return { index, function: fn, address: `0x${(0x1000 + index).toString(16)}`, ...extra };
}

const ABORT_FRAMES: StackFrame[] = [
  frame(0, "__pthread_kill_implementation", { file: "./nptl/pthread_kill.c", line: 44 }),
  frame(1, "__pthread_kill_internal", { file: "./nptl/pthread_kill.c", line: 78 }),
  frame(2, "__GI_raise", { args: "sig=sig@entry=6", file: "../sysdeps/posix/raise.c", line: 26 }),
  frame(3, "__GI_abort", { file: "./stdlib/abort.c", line: 79 }),
  frame(4, "fail_now", { file: "abrt.c", line: 5 }),
  frame(5, "main", { file: "abrt.c", line: 6 }),
];

Deno.test("isSystemFrame() tells glibc internals from the program's own frames", () => {
  assert.deepEqual(ABORT_FRAMES.map(isSystemFrame), [true, true, true, true, false, false]);
  assert.equal(
    isSystemFrame(frame(0, "memcpy", { library: "/lib/aarch64-linux-gnu/libc.so.6" })),
    true,
  );
  assert.equal(isSystemFrame(frame(0, "<signal handler called>")), true);
  assert.equal(isSystemFrame(frame(0, "handler", { file: "./src/handler.c", line: 1 })), false);
});

Deno.test("formatFrame() writes frames like gdb", () => {
  assert.equal(
    formatFrame({ index: 3, function: "abort", library: "/lib/libc.so.6" }),
    "#3 abort () from /lib/libc.so.6",
  );
  assert.equal(
    formatFrame({ index: 4, function: "<signal handler called>" }),
    "#4 <signal handler called>",
  );
});

Deno.test("crashFrameName() keeps glibc's extra underscores, hangFrameName() drops them", () => {
  const mutex = frame(3, "___pthread_mutex_lock");
  assert.equal(crashFrameName(mutex), "___pthread_mutex_lock()");
  assert.equal(hangFrameName(mutex), "pthread_mutex_lock()");
  for (const name of [crashFrameName, hangFrameName]) {
    assert.equal(name(frame(0, "__GI_abort")), "abort()");
    assert.equal(name(frame(0, "__libc_pause")), "pause()");
    assert.equal(name(frame(0, "??")), "0x1000");
    assert.equal(name(frame(0, "<signal handler called>")), "<signal handler called>");
  }
});

Deno.test("describeCallSite() names the call into the C library and the program's frames", () => {
  assert.equal(
    describeCallSite(ABORT_FRAMES, 3, crashFrameName),
    " in abort() at fail_now() ← main()",
  );
  assert.equal(describeCallSite(ABORT_FRAMES.slice(4), 1, crashFrameName), " at fail_now()");
  assert.equal(describeCallSite([], 3, crashFrameName), "");
  assert.equal(topOwnFrame(ABORT_FRAMES)?.function, "fail_now");
  assert.equal(topOwnFrame(ABORT_FRAMES.slice(0, 2))?.function, "__pthread_kill_implementation");
  assert.equal(topOwnFrame([]), undefined);
});

Deno.test("programLine() says what ran for what was configured", () => {
  assert.equal(
    programLine({ image: "/opt/svc", executable: "/opt/svc", buildId: "ab", machine: "x86_64" }),
    "program /opt/svc, build-id ab, x86_64",
  );
  assert.equal(
    programLine({ image: "/usr/bin/python3.11", executable: "/opt/svc.py" }),
    "program /usr/bin/python3.11 (running /opt/svc.py)",
  );
});

Deno.test("threadLines() lists every thread, marks the crashed one on request and caps frames", () => {
  const threads = [
    { number: 1, lwp: 7, crashed: true, frames: ABORT_FRAMES },
    { number: 2, name: "worker", crashed: false, frames: [frame(0, "pause")] },
  ];
  assert.deepEqual(threadLines(threads, { maxFrames: 2, markCrashed: true }), [
    "",
    "Thread 1 (LWP 7), crashed:",
    "  #0 0x1000 __pthread_kill_implementation () at ./nptl/pthread_kill.c:44",
    "  #1 0x1001 __pthread_kill_internal () at ./nptl/pthread_kill.c:78",
    "  … 4 more frames",
    "",
    'Thread 2 "worker":',
    "  #0 0x1000 pause ()",
  ]);
  assert.equal(threadLines(threads, { maxFrames: 2, markCrashed: false })[1], "Thread 1 (LWP 7):");
});
