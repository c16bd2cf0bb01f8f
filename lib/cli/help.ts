/**
 * The `--help` texts. They teach: every flag, a default, and an example that works.
 *
 * @module
 */

import { VERSION } from "../core/version.ts";
import { LOGS_HELP } from "./logs_command.ts";
import { TRACE_HELP } from "./trace_help.ts";
import { MEMPROF_HELP } from "./memprof_command.ts";
import { DOCTOR_HELP } from "./doctor_command.ts";
import { RECORD_HELP } from "./record_command.ts";
import { UP_HELP } from "./up_command.ts";
import { PS_HELP } from "./ps_command.ts";
import { CLEAR_HELP, GET_TEF_HELP, LIST_HELP, SERVE_HELP } from "./serve_command.ts";

/** `wrapp --help`. */
export const MAIN_HELP =
  `wrapp ${VERSION} — supervise a service, stream its output into Redis and Perfetto traces

Usage:
  wrapp run <svc.toml> [--debug]     supervise the service described by svc.toml
  wrapp <svc.toml>                   same as "wrapp run <svc.toml>"
  wrapp up <dir> [--debug]           supervise every service in dir/*.toml, *.json at once
  wrapp run <a.toml> <b.toml>…       the same with files (each line echoed as "name | …")
  wrapp ps [--json] [--redis URL]    every service here (or in Redis) like "pm2 ls": state,
                                     uptime, restarts, last exit, lines/s, CPU, RSS
  wrapp check <svc.toml>             validate a config and print the effective config
  wrapp check <dir|a.toml b.toml…>   the same for every config, as "wrapp up" would
  wrapp logs <name> [-f] [-s STREAM] read a service's Redis streams back; -f follows
  wrapp trace (--pid N | -- CMD…)    syscall counts, errors, latency and anomalies (eBPF, root)
  wrapp trace --tui … | --demo       the same as a live full-screen view; --demo needs no root
  wrapp memprof (--pid N | -- CMD…)  live memory per call stack, browser view (eBPF, root)
  wrapp record <app> | --custom CMD  trace redis, nginx, postgresql or CMD under load (eBPF, root)
  wrapp doctor [--config svc.toml]   say what this machine lacks for each feature
  wrapp serve [--socket P] [--dir D] trace collector daemon speaking the tldrs protocol
  wrapp list                         traces the collector holds, with sizes and event counts
  wrapp get-tef <id|path|latest>     assemble a collected trace into a Perfetto trace.json
  wrapp clear                        delete the collected traces
  wrapp help [command]               help for a command
  wrapp --version                    print the version

Options:
  -h, --help      show help
  -V, --version   print the version
      --debug     print [DEBUG HH:MM:SS.mmm] lines about config, command, pid and exit
                  on stderr (also WRAPP_DEBUG=1)

With a [redis] section, "wrapp run" streams every line into Redis (DB 1,
logs:app:<name>:info|status|crash|trace, entries with the field "message") exactly as
the Go wrapp did: its TOML and JSON configs work unchanged ([redis] layout = "wrapp"
keeps stderr in :error and lines as printed). Without one, it writes a local trace:
JSON lines while the service runs, assembled at exit into a trace.json that
https://ui.perfetto.dev opens.

Examples:
  wrapp run examples/hello.toml
  wrapp check /etc/wrapp/robot.toml
  wrapp up /etc/wrapp/
  sudo wrapp ps
  sudo wrapp run /etc/wrapp/robot.toml --debug

Exit codes: the service's own exit code, or 128+signal when a signal ended it;
2 for a bad command line or config; 77 when a privilege is missing; 127 when the
program cannot be started.`;

/** `wrapp run --help`. */
export const RUN_HELP = `Usage: wrapp run <svc.toml> [--debug]
       wrapp run <a.toml> <b.toml>… [--debug]   (several services: see "wrapp help up")

Start the program in [app], pass stdin through, read its stdout and stderr line by line
and send every line, multi-line block (between ">>|" and "|<<") and marker
("{{name}}" counts, "{{name:value}}" sets) to the configured sinks. Output is echoed to
wrapp's own stdout/stderr too (turn off with [output] echo = false).

Optional sections add eBPF views of the service (root, bpftrace): [trace] traces its
syscalls like "wrapp trace", [memprof] profiles its memory like "wrapp memprof" and
serves the page on 127.0.0.1:17832. [debug] enabled = true holds the service at its
first instruction with gdbserver listening on 127.0.0.1:2345 (Debian package
"gdbserver") and prints how to connect gdb. A config may be TOML or, named *.json, the
Go wrapp's JSON. See examples/config.example.toml for every key.

Signals SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the
program's process group. After SIGTERM or SIGINT, wrapp waits [app] stop_grace (default
10s) and then sends SIGKILL. wrapp exits with the program's exit code, or 128+signal,
after flushing every sink.

Options:
  --debug     debug lines on stderr (also WRAPP_DEBUG=1)
  -h, --help  show this help

Example:
  wrapp run examples/hello.toml`;

/** `wrapp check --help`. */
export const CHECK_HELP = `Usage: wrapp check <svc.toml|dir>… [--debug]

Validate a config the way "wrapp run" would — TOML syntax, unknown keys, types and
ranges, whether the executable exists and is executable — and print the effective config
(every key, defaults filled in, passwords masked). Exits 0 when valid, 2 with a message
naming file, line and column when not.

A file named *.json is read as a Go wrapp JSON config; the effective config is printed
as TOML all the same, ready to be saved as a .toml file.

Given several files or a folder (its *.toml and *.json files), it checks them all, as
"wrapp up" would: each valid config is printed, then every bad file is named; two
services with the same stream_name are refused too. Exits 2 when any is bad.

Examples:
  wrapp check examples/hello.toml
  wrapp check /etc/wrapp/robot.json > /etc/wrapp/robot.toml
  wrapp check /etc/wrapp/`;

/** Help text by command name. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: RUN_HELP,
  check: CHECK_HELP,
  up: UP_HELP,
  ps: PS_HELP,
  logs: LOGS_HELP,
  trace: TRACE_HELP,
  memprof: MEMPROF_HELP,
  record: RECORD_HELP,
  doctor: DOCTOR_HELP,
  serve: SERVE_HELP,
  list: LIST_HELP,
  "get-tef": GET_TEF_HELP,
  clear: CLEAR_HELP,
};
