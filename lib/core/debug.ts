/**
 * `--debug` output: `[DEBUG HH:MM:SS.mmm] message` lines on stderr.
 *
 * @module
 */

/** A function that prints one debug line, or does nothing when debugging is off. */
export type DebugLog = (message: string) => void;

/** A logger that prints nothing. */
export const silentDebug: DebugLog = () => {};

/** Format a debug line for `date` in local time. */
export function formatDebugLine(message: string, date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${
    pad(date.getMilliseconds(), 3)
  }`;
  return `[DEBUG ${clock}] ${message}\n`;
}

/** A logger writing to stderr synchronously, so debug lines interleave correctly with the echo. */
export function stderrDebug(): DebugLog {
  const encoder = new TextEncoder();
  return (message) => {
    const bytes = encoder.encode(formatDebugLine(message));
    let written = 0;
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  };
}
