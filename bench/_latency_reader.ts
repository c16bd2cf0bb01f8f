/**
 * The benchmarks' latency reader: a python3 process that follows one Redis stream with
 * `XREAD BLOCK` and times the arrival of the paced printer's lines (`lat <i> <µs>`, see
 * `_paced_printer.ts`) against their send time, both on CLOCK_REALTIME.
 *
 * It is its own small process, not a thread of the benchmark, so that what it measures is
 * the wrapper's latency and not its own: an ioredis reader in a Web Worker of the bench
 * (the reader before this one) parsed every reply into JavaScript objects on a V8 heap of its
 * own, and its pauses were counted as the wrapper's. Measured on this 2-core VM at 1000 lines/s
 * (12 s each): the same lines read by both at once, p99 2.78 and 4.61 ms by the worker against
 * 2.27 and 3.21 by this reader (ours), 2.38 and 1.93 against 1.95 and 1.33 (Deno's lines floor);
 * ours alone, alternated, p99 2.77-3.99 ms (median 3.08) with the worker, 1.51-2.51 (median 2.15)
 * with this reader.
 *
 * @module
 */

/** What to follow. */
export interface LatencyRequest {
  port: number;
  db: number;
  key: string;
}

/** What the reader saw. */
export interface LatencyResult {
  /** CLOCK_REALTIME µs at which each `lat` line was printed, in arrival order. */
  sentUs: number[];
  /** Print → readable, µs, same order as `sentUs`. */
  latencyUs: number[];
  /** The count in the printer's `end <count>` line; undefined if it never came. */
  endCount?: number;
  /** Whether every `lat` index came, in order, from 0 up to the last one read. */
  contiguous: boolean;
  /** An error that ended the reading early. */
  error?: string;
}

/** A reader following a stream. */
export interface LatencyReader {
  /** Its result, once it read the printer's `end <count>` line or was stopped. */
  result: Promise<LatencyResult>;
  /** Stop reading (within its 500 ms `BLOCK`); harmless once it has ended. */
  stop(): void;
}

/**
 * The reader's source: `python3 -c SOURCE PORT DB KEY` prints one {@linkcode LatencyResult}
 * as JSON once it has read the `end <count>` line, or after SIGTERM. The entry's text is its
 * `message` field (the Go layout), else `msg` (older versions of ours).
 */
export const LATENCY_READER_PY = `
import json, signal, socket, sys, time

port, db, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stopping = False


def on_term(*_):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)


def command(*args):
    parts = [b"*%d\\r\\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\\r\\n%s\\r\\n" % (len(data), data))
    return b"".join(parts)


class Replies:
    def __init__(self, sock):
        self.sock, self.buf, self.pos = sock, b"", 0

    def fill(self):
        self.buf, self.pos = self.buf[self.pos:], 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        self.buf += chunk

    def line(self):
        while True:
            end = self.buf.find(b"\\r\\n", self.pos)
            if end >= 0:
                line, self.pos = self.buf[self.pos:end], end + 2
                return line
            self.fill()

    def bulk(self, size):
        while len(self.buf) - self.pos < size + 2:
            self.fill()
        data, self.pos = self.buf[self.pos:self.pos + size], self.pos + size + 2
        return data

    def read(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if int(rest) < 0 else self.bulk(int(rest))
        if kind == b"*":
            return None if int(rest) < 0 else [self.read() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply %r" % line[:80])


def text(fields):
    msg = None
    for k in range(0, len(fields) - 1, 2):
        if fields[k] == b"message":
            return fields[k + 1]
        if fields[k] == b"msg":
            msg = fields[k + 1]
    return msg or b""


result = {"sentUs": [], "latencyUs": [], "contiguous": True}
try:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = Replies(sock)
    sock.sendall(command("SELECT", db))
    replies.read()
    last, expected = b"0-0", 0
    while not stopping and "endCount" not in result:
        sock.sendall(command("XREAD", "COUNT", 5000, "BLOCK", 500, "STREAMS", key, last))
        reply = replies.read()
        now = time.time_ns() // 1000
        for _, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                line = text(fields)
                if line.startswith(b"lat "):
                    _, index, sent = line.split(b" ")
                    if int(index) != expected:
                        result["contiguous"] = False
                    expected = int(index) + 1
                    result["sentUs"].append(int(sent))
                    result["latencyUs"].append(now - int(sent))
                elif line.startswith(b"end "):
                    result["endCount"] = int(line[4:])
except Exception as error:
    result["error"] = str(error) or type(error).__name__
json.dump(result, sys.stdout)
`;

/** Start a reader of `request`'s stream with `python` (python3). */
export function followLatency(request: LatencyRequest, python = "python3"): LatencyReader {
  const child = new Deno.Command(python, {
    args: ["-c", LATENCY_READER_PY, String(request.port), String(request.db), request.key],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const result = child.output().then(({ code, stdout, stderr }): LatencyResult => {
    const text = new TextDecoder().decode(stdout);
    try {
      return JSON.parse(text) as LatencyResult;
    } catch {
      const why = new TextDecoder().decode(stderr).trim().slice(-500) || text.slice(0, 200);
      return {
        sentUs: [],
        latencyUs: [],
        contiguous: false,
        error: `the reader exited ${code}: ${why}`,
      };
    }
  });
  return {
    result,
    stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // It has ended already.
      }
    },
  };
}
