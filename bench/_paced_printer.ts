/**
 * A paced printer for the benchmarks, as Python source (its memory and CPU are the service's,
 * not the wrapper's): `python3 printer.py RATE MAX_SECONDS` prints `lat <i> <µs>` lines, `<µs>`
 * being CLOCK_REALTIME when the line was written, RATE lines a second (catching up in a burst
 * when late), until SIGTERM or MAX_SECONDS; then `end <count>` and exit 0.
 *
 * @module
 */

/** The printer's source; write it to a file and run it with python3. */
export const PACED_PRINTER_PY = `
import os, signal, sys, time

rate, limit = int(sys.argv[1]), float(sys.argv[2])
stopping = False


def on_term(*_):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
period = 1.0 / rate
total = int(rate * limit)
start = time.monotonic()
sent = 0
while not stopping and sent < total:
    delay = start + sent * period - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if stopping:
        break
    os.write(1, b"lat %d %d\\n" % (sent, time.time_ns() // 1000))
    sent += 1
os.write(1, b"end %d\\n" % sent)
`;
