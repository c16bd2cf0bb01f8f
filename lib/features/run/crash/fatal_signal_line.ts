/**
 * What the fatal-signal programs report, one line at a time: the printf lines of
 * `bpf/fatal_signal.bt` (bpftrace), and the same events decoded from the native
 * programs' records (`fatal_signal_bpf.ts`).
 *
 * @module
 */

/** A line printed by `bpf/fatal_signal.bt`. */
export type FatalSignalLine =
  | { kind: "ready" }
  | { kind: "exec"; pid: number }
  | { kind: "exit"; pid: number }
  | { kind: "maps"; pid: number }
  | { kind: "signal"; pid: number; tid: number; signal: number; result: number };

/** Parse a printf line of `bpf/fatal_signal.bt`; `undefined` for anything else. */
export function parseFatalSignalLine(text: string): FatalSignalLine | undefined {
  const fields = text.trim().split(/\s+/);
  const numbers = fields.slice(1).map((f) => Number(f));
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  switch (fields[0]) {
    case "R":
      return { kind: "ready" };
    case "E":
      return numbers.length === 1 ? { kind: "exec", pid: numbers[0] } : undefined;
    case "X":
      return numbers.length === 1 ? { kind: "exit", pid: numbers[0] } : undefined;
    case "M":
      return numbers.length === 1 ? { kind: "maps", pid: numbers[0] } : undefined;
    case "S":
      if (numbers.length !== 4) return undefined;
      return {
        kind: "signal",
        pid: numbers[0],
        tid: numbers[1],
        signal: numbers[2],
        result: numbers[3],
      };
  }
  return undefined;
}
