/**
 * Linux signal numbers and the shell's exit-code convention.
 *
 * The numbers are the asm-generic ones, identical on x86_64 and aarch64 for every
 * signal listed here.
 *
 * @module
 */

/** Signal name → number on Linux (x86_64 and aarch64). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** Signals wrapp forwards to the service's process group. */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * Call `onSignal` with each of {@linkcode FORWARDED_SIGNALS} wrapp receives, instead of
 * their default action; returns the function that stops listening.
 */
export function listenForForwardedSignals(onSignal: (signal: Deno.Signal) => void): () => void {
  const handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => onSignal(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  };
}

/** Signals that ask the service to stop: after the grace period wrapp sends SIGKILL. */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGTERM", "SIGINT"];

/** How a process ended. */
export interface ExitStatus {
  /** Exit code when it exited normally. */
  code?: number;
  /** Signal name when a signal killed it. */
  signal?: string;
}

/** The exit code a shell would report: the code, or 128 + the signal number. */
export function shellExitCode(status: ExitStatus): number {
  if (status.signal !== undefined) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  return status.code ?? 0;
}

/** `exit code 3` or `signal SIGSEGV`, for messages. */
export function describeExit(status: ExitStatus): string {
  return status.signal !== undefined ? `signal ${status.signal}` : `exit code ${status.code}`;
}

/** Normalise `"term"`, `"TERM"`, `"sigterm"`, `"15"` to `"SIGTERM"`; `undefined` when unknown. */
export function parseSignalName(text: string): Deno.Signal | undefined {
  const trimmed = text.trim().toUpperCase();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    const found = Object.entries(SIGNAL_NUMBERS).find(([, number]) => number === n);
    return found?.[0] as Deno.Signal | undefined;
  }
  const name = trimmed.startsWith("SIG") ? trimmed : `SIG${trimmed}`;
  return name in SIGNAL_NUMBERS ? name as Deno.Signal : undefined;
}
