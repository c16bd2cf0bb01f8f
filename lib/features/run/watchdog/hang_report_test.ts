import assert from "node:assert/strict";
import { describeHang, formatHangSummary, hangEvent, type HangReport } from "./hang_report.ts";
import { parseThreads } from "../crash/gdb_backtrace.ts";

// What `gdb -p PID -batch -ex "thread apply all bt"` printed for a service stuck on a mutex.
const GDB_THREADS = `[Current thread is 1 (Thread 0x7f1848a0b740 (LWP 2563))]

Thread 2 (Thread 0x7f18481ff6c0 (LWP 2570) "worker"):
#0  0x00007f1848a92156 in __GI___clock_nanosleep () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x000055ebbea78300 in worker (arg=0x0) at svc.c:30

Thread 1 (Thread 0x7f1848a0b740 (LWP 2563) "svc"):
#0  futex_wait (private=0, expected=2, futex_word=0x55ebbea7b0a0 <lock>) at ../sysdeps/nptl/futex-internal.h:146
#1  __GI___lll_lock_wait (futex=futex@entry=0x55ebbea7b0a0 <lock>, private=0) at ./nptl/lowlevellock.c:49
#2  0x00007f1848a9a482 in lll_mutex_lock_optimized (mutex=0x55ebbea7b0a0 <lock>) at ./nptl/pthread_mutex_lock.c:48
#3  ___pthread_mutex_lock (mutex=0x55ebbea7b0a0 <lock>) at ./nptl/pthread_mutex_lock.c:93
#4  0x000055ebbea782f8 in stuck_here () at svc.c:24
#5  0x000055ebbea783f8 in main () at svc.c:39
`;

function report(overrides: Partial<HangReport> = {}): HangReport {
  const info = {
    service: "svc",
    pid: 2563,
    executable: "/opt/svc",
    reason: "watchdog" as const,
    limitMs: 2000,
    silentMs: 2004,
    time: 1_700_000_000_000,
  };
  return {
    ...info,
    detail: describeHang(info),
    image: "/opt/svc",
    buildId: "abc123",
    source: "gdb",
    threads: parseThreads(GDB_THREADS),
    problems: [],
    captureMs: 900,
    ...overrides,
  };
}

Deno.test("describeHang() says which deadline passed", () => {
  const base = { service: "s", pid: 1, executable: "/s", silentMs: 120_500, time: 0 };
  assert.equal(
    describeHang({ ...base, reason: "watchdog", limitMs: 30_000 }),
    "no WATCHDOG=1 within the 30 s timeout",
  );
  assert.equal(
    describeHang({ ...base, reason: "silence", limitMs: 120_000 }),
    "no output line within the 120 s silence limit",
  );
  assert.equal(describeHang({ ...base, reason: "trigger" }), "the service sent WATCHDOG=trigger");
});

Deno.test("formatHangSummary() names where the main thread is stuck, past the C library", () => {
  assert.equal(
    formatHangSummary(report({ statusText: "serving" })),
    'wrapp: svc (pid 2563) hung: no WATCHDOG=1 within the 2 s timeout; stuck in pthread_mutex_lock() at stuck_here() ← main(); its last status was "serving"; report in the crash stream',
  );
  const paused = parseThreads(
    "#0  0x00007f0f in __libc_pause () at ../sysdeps/unix/sysv/linux/pause.c:29\n#1  0x0000555 in quiet_here () at silent.c:6\n",
  );
  assert.match(
    formatHangSummary(report({ threads: paused })),
    /; stuck in pause\(\) at quiet_here\(\);/,
  );
  assert.equal(
    formatHangSummary(report({ threads: [], source: "none" })),
    "wrapp: svc (pid 2563) hung: no WATCHDOG=1 within the 2 s timeout; report in the crash stream",
  );
});

Deno.test("hangEvent() carries the summary and the report as plain data", () => {
  const event = hangEvent(report());
  assert.equal(event.kind, "hang");
  assert.equal(event.time, 1_700_000_000_000);
  assert.equal(event.summary, formatHangSummary(report()));
  assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
});
