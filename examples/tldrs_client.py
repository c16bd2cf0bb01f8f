#!/usr/bin/env python3
"""A small client of the tldrs protocol, which `wrapp serve` (and tldrs) speak.

It records one trace from several processes: the root process makes a trace id, passes
it to its children in TRACE_TEF_TLDR_TRACE_ID (as the OCaml `trace` library's tldrs
backend does), and every process sends its own events under that id.

    wrapp serve &
    python3 examples/tldrs_client.py --children 2 --emit trace.json
    # open trace.json in https://ui.perfetto.dev

The protocol: a unix stream socket, one message per line, and the daemon never answers.

    OPEN <trace-id>               first: which trace (the same for every process of a run)
    {"ph": "X", ...}              one TEF event per line; ts and dur in microseconds
    EMIT_TEF_AT_EXIT </abs/path>  write trace.json there once the trace's last client has
                                  disconnected (the root sends it; the path must be absolute
                                  because the daemon does not know our working directory)
    EMIT_TEF </abs/path>          the same, right away
    DIE / DIE_WHEN_IDLE           stop the daemon now / once no client is connected

Standard library only; Python 3.7 or newer.
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time


def default_socket():
    """Where the daemon listens, found the way `wrapp serve` picks its default."""
    explicit = os.environ.get("TRACE_TEF_TLDR_SOCKET")
    if explicit:
        return explicit
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", "tldrs.socket")


def now_us():
    """Microseconds on the monotonic clock, which every process on the machine shares."""
    return time.monotonic_ns() / 1000


class Tracer:
    """One connection to the daemon, for one process."""

    def __init__(self, path, trace_id):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as error:
            sys.exit(f"tldrs_client: cannot connect to {path!r}: {error.strerror}; "
                     "is `wrapp serve` running?")
        self.out = self.sock.makefile("w", encoding="utf-8", newline="\n")
        self.pid = os.getpid()
        self.tid = threading.get_native_id()
        self.send(f"OPEN {trace_id}")

    def send(self, line):
        self.out.write(line + "\n")

    def event(self, **fields):
        fields.setdefault("pid", self.pid)
        fields.setdefault("tid", self.tid)
        self.send(json.dumps(fields, separators=(",", ":")))

    def close(self):
        self.out.flush()
        self.out.close()
        self.sock.close()


def main():
    parser = argparse.ArgumentParser(description="Record a small multi-process trace.")
    parser.add_argument("--socket", default=default_socket(), help="daemon socket")
    parser.add_argument("--children", type=int, default=0, help="child processes to start")
    parser.add_argument("--emit", help="write the assembled trace.json here at the end")
    parser.add_argument("--name", default="root", help=argparse.SUPPRESS)
    args = parser.parse_args()

    trace_id = os.environ.get("TRACE_TEF_TLDR_TRACE_ID")
    is_root = trace_id is None
    if is_root:
        trace_id = f"tr-{int(time.time())}-{secrets.token_hex(16)}"
        os.environ["TRACE_TEF_TLDR_TRACE_ID"] = trace_id
        os.environ["TRACE_TEF_TLDR_SOCKET"] = args.socket

    tracer = Tracer(args.socket, trace_id)
    if is_root and args.emit:
        tracer.send(f"EMIT_TEF_AT_EXIT {os.path.abspath(args.emit)}")
    tracer.event(ph="M", name="process_name", args={"name": f"tldrs_client {args.name}"})
    tracer.event(ph="M", name="thread_name", args={"name": "main"})

    start = now_us()
    for step in range(3):
        begin = now_us()
        time.sleep(0.005)
        tracer.event(ph="X", name=f"step {step}", cat="work", ts=begin, dur=now_us() - begin,
                     args={"step": step})
        tracer.event(ph="C", name="progress", ts=now_us(), args={"done": step + 1})

    if args.children > 0:
        begin = now_us()
        children = [
            subprocess.Popen([sys.executable, __file__, "--name", f"child {n}"])
            for n in range(args.children)
        ]
        codes = [child.wait() for child in children]
        tracer.event(ph="X", name="children", ts=begin, dur=now_us() - begin,
                     args={"exit_codes": str(codes)})

    tracer.event(ph="i", name="done", s="t", ts=now_us())
    tracer.event(ph="X", name=args.name, ts=start, dur=now_us() - start)
    tracer.close()
    if is_root:
        print(f"trace id: {trace_id}", file=sys.stderr)
        if args.emit:
            print(f"trace.json: {os.path.abspath(args.emit)} (written by the daemon)",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
