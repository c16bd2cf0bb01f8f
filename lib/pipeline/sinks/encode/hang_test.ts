import assert from "node:assert/strict";
import type { HangEvent, HangReport } from "../../../core/events/hang.ts";
import type { StackThread } from "../../../core/events/stack.ts";
import { hangStreamFields, hangTraceEvent } from "./hang.ts";

// What the run feature's parseThreads() makes of `gdb -p PID -batch -ex "thread apply all
// bt"` for a service stuck on a mutex (gdb_backtrace_test.ts and hang_report_test.ts parse
// the text itself).
const LOCK = "0x55ebbea7b0a0 <lock>";
const THREADS: StackThread[] = [
  {
    number: 1,
    lwp: 2563,
    name: "svc",
    crashed: true,
    frames: [
      {
        index: 0,
        function: "futex_wait",
        file: "../sysdeps/nptl/futex-internal.h",
        line: 146,
        args: `private=0, expected=2, futex_word=${LOCK}`,
      },
      {
        index: 1,
        function: "__GI___lll_lock_wait",
        file: "./nptl/lowlevellock.c",
        line: 49,
        args: `futex=futex@entry=${LOCK}, private=0`,
      },
      {
        index: 2,
        function: "lll_mutex_lock_optimized",
        address: "0x00007f1848a9a482",
        file: "./nptl/pthread_mutex_lock.c",
        line: 48,
        args: `mutex=${LOCK}`,
      },
      {
        index: 3,
        function: "___pthread_mutex_lock",
        file: "./nptl/pthread_mutex_lock.c",
        line: 93,
        args: `mutex=${LOCK}`,
      },
      {
        index: 4,
        function: "stuck_here",
        address: "0x000055ebbea782f8",
        file: "svc.c",
        line: 24,
      },
      { index: 5, function: "main", address: "0x000055ebbea783f8", file: "svc.c", line: 39 },
    ],
  },
  {
    number: 2,
    lwp: 2570,
    name: "worker",
    crashed: false,
    frames: [
      {
        index: 0,
        function: "__GI___clock_nanosleep",
        address: "0x00007f1848a92156",
        library: "/lib/x86_64-linux-gnu/libc.so.6",
      },
      {
        index: 1,
        function: "worker",
        address: "0x000055ebbea78300",
        file: "svc.c",
        line: 30,
        args: "arg=0x0",
      },
    ],
  },
];

function report(overrides: Partial<HangReport> = {}): HangReport {
  return {
    service: "svc",
    pid: 2563,
    executable: "/opt/svc",
    reason: "watchdog",
    limitMs: 2000,
    silentMs: 2004,
    time: 1_700_000_000_000,
    detail: "no WATCHDOG=1 within the 2 s timeout",
    image: "/opt/svc",
    buildId: "abc123",
    source: "gdb",
    threads: THREADS,
    problems: [],
    captureMs: 900,
    ...overrides,
  };
}

/** The event as the run feature's hangEvent() makes it. */
function hangEvent(r: HangReport): HangEvent {
  return { kind: "hang", time: r.time, summary: "wrapp: svc (pid 2563) hung", report: r };
}

Deno.test("hangStreamFields() has kind hang, the reason and every thread's frames", () => {
  const fields = hangStreamFields(hangEvent(report({ problems: ["gdb was slow"] })));
  assert.equal(fields.kind, "hang");
  assert.equal(fields.reason, "watchdog");
  assert.equal(fields.limit_ms, "2000");
  assert.equal(fields.silent_ms, "2004");
  assert.equal(fields.build_id, "abc123");
  assert.equal(fields.problems, "gdb was slow");
  assert.equal(fields.status_text, undefined);
  assert.match(
    fields.backtrace,
    /Thread 1 \(LWP 2563 "svc"\):\n(.+\n)*.*stuck_here \(\) at svc\.c:24/,
  );
  assert.match(
    fields.backtrace,
    /Thread 2 \(LWP 2570 "worker"\):\n.*\n.*worker \(arg=0x0\) at svc\.c:30/,
  );
});

Deno.test("hangTraceEvent() is an instant on the given track named after the stuck function", () => {
  const event = hangTraceEvent(hangEvent(report()), { pid: 7, tid: 6 });
  assert.equal(event.ph, "i");
  assert.equal(event.cat, "hang");
  assert.equal(event.name, "hang in stuck_here()");
  assert.equal(event.pid, 7);
  assert.equal(event.tid, 6);
  assert.equal(event.ts, 1_700_000_000_000_000);
});
