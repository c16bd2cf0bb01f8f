/**
 * `wrapp trace --help`: what the command does, each option with its default, and exit codes.
 *
 * @module
 */

import { DEFAULT_THRESHOLD_SIGMA } from "../pipeline/syscalls/anomaly_detector.ts";
import { SYSCALL_CLASSES } from "../pipeline/syscalls/syscall_classes.ts";
import { DEFAULT_FLOOR_NS } from "../pipeline/syscalls/syscall_tracer.ts";

const _THRESHOLD = DEFAULT_THRESHOLD_SIGMA.toFixed(1);
const _FLOOR = `${DEFAULT_FLOOR_NS / 1e6}ms`;
const _CLASSES = Object.keys(SYSCALL_CLASSES).join(", ");

/** `wrapp trace --help`. */
export const TRACE_HELP = `Usage: wrapp trace [options] --pid PID
       wrapp trace [options] [--] COMMAND [ARGS...]
       wrapp trace --demo

Trace the system calls of a process and of the processes it starts after tracing began:
count, errors by errno, and latency (total, mean, p50, p99, max) per syscall, plus
anomalies: single calls far slower than usual. It runs bpftrace with bpf/syscalls.bt,
which aggregates in the kernel, so the traced program runs at nearly full speed
(strace -c stops it at every call). Needs root, bpftrace >= 0.14 and tracefs; not BTF.

With --pid, wrapp attaches to a running process and stops when it exits or on Ctrl-C.
With a COMMAND, wrapp starts it (stdin, stdout and stderr are the terminal's), traces it
from its execve on, and exits with its exit code when it ends.

Options:
  -p, --pid PID          trace this running process (and the children it starts from now on)
  -c, --summary          print a table at the end, like strace -c: sorted by time, with
                         % time, usecs/call, p50/p99/max, calls, errors (by errno name)
      --json             print the summary as JSON for scripts (on stdout, or -o FILE)
  -o, --output FILE      write the summary (table or JSON) to FILE instead of stdout
      --filter LIST      report only these syscalls: names (openat,read) and classes
                         (${_CLASSES}); repeatable
      --duration TIME    stop tracing after TIME (e.g. 10s, 2m); a launched command keeps
                         running untraced, and wrapp waits for it
      --threshold SIGMA  a call is an anomaly when its latency is more than SIGMA standard
                         deviations above the mean of its syscall's other calls (default ${_THRESHOLD})
      --slow TIME        also an anomaly: any call slower than TIME (default: off)
      --floor TIME       calls faster than TIME are never looked at one by one, only counted
                         (default ${_FLOOR}, lowered to --slow when that is smaller); lower
                         it to catch smaller spikes, at some cost when many calls block
      --per-thread       statistics per thread instead of per process tree
      --tef FILE         also write a Perfetto trace (open it in https://ui.perfetto.dev):
                         anomalies as slices on their thread's track, syscall rate and
                         errors per second as counters
      --redis URL        also send the summary and anomalies to logs:app:<name>:trace and
                         per-second counts to wrapp:<name>:syscalls / syscall_errors (DB 2)
                         (redis://[user:pw@]host:port, rediss:// for TLS; spooled on disk
                         while Redis is down)
      --redis-password-file FILE  Redis password (else the URL's, else $WRAPP_REDIS_PASSWORD)
      --name NAME        service name in the Redis keys (default: the command's base name,
                         or pid-<N> with --pid)
      --tui              a live full-screen view instead of notices: syscall rate
                         (sparkline), top syscalls with errors, the selected syscall's
                         latency histogram, the latest anomalies. Keys: q quit, arrows
                         select, s sort, p pause, f filter by class, ? help. A launched
                         command's output goes to --log, not the screen
      --log FILE         with --tui, where a launched command's stdout and stderr go
                         (default: $TMPDIR or /tmp, wrapp-trace-<name>-<time>.log)
      --tick TIME        with --tui, how often the screen is redrawn (default 50ms; the
                         counts themselves arrive once a second)
      --fps              with --tui, show frame times in the footer and print them at exit
      --demo             the --tui view on deterministic synthetic data (100,000
                         syscalls/s): no root, no bpftrace; --duration ends the demo trace
      --bpftrace PATH    bpftrace binary (default: $WRAPP_BPFTRACE, else bpftrace in PATH)
      --debug            debug lines on stderr (also WRAPP_DEBUG=1)
  -h, --help             show this help

Times are wall-clock time inside the call (strace -c -w). Counts, errors, totals and
means are exact; p50 and p99 come from the kernel's histograms with four buckets per
power of two (within 25 %); max is exact for calls above the floor. Anomalies are
printed on stderr as they are found (within a second).

Examples:
  sudo wrapp trace --summary -- ./my-app --port 8080
  sudo wrapp trace --pid 4242 --duration 30s --summary
  sudo wrapp trace --filter file,net --slow 50ms -- ./my-app
  sudo wrapp trace --json -o summary.json --tef trace.json -- make -j4
  sudo wrapp trace --tui -- ./my-app          # its output goes to /tmp/wrapp-trace-my-app-….log
  wrapp trace --demo --fps

Exit codes: the command's own (or 128+signal) when wrapp started it; 0 after --pid;
2 for a bad command line; 69 when bpftrace, tracefs or a tracepoint is missing; 77
without root; 127 when the command cannot be started.`;
