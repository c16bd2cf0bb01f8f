/**
 * Typed errors. Every error wrapp reports on purpose is a {@linkcode WrappError}
 * carrying the exit code the CLI should end with; anything else is a bug (exit 70).
 *
 * Messages are capitalised, have no trailing period, quote values and put details
 * after a colon: `Cannot connect to Redis at "10.0.0.2:6379": connection refused`.
 *
 * @module
 */

/** Base of every error wrapp raises deliberately. */
export class WrappError extends Error {
  /** Process exit code the CLI uses when this error ends the program. */
  readonly exitCode: number;

  /** Create an error with a message, exit code (default 1) and optional cause. */
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Wrong command line: unknown command or flag, missing argument. Exit code 2. */
export class UsageError extends WrappError {
  /** Create a usage error (exit code 2). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
  }
}

/** Invalid configuration: TOML syntax, unknown key, wrong type, missing executable. Exit code 2. */
export class ConfigError extends WrappError {
  /** Create a configuration error (exit code 2). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
  }
}

/** The supervised program could not be started (spawn failed, user switch impossible). Exit code 127 like a shell. */
export class SpawnError extends WrappError {
  /** Create a spawn error (exit code 127). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 127, cause: options.cause });
  }
}

/** A sink could not be opened or written (e.g. the trace directory is not writable). Exit code 74 (EX_IOERR). */
export class SinkError extends WrappError {
  /** Create a sink error (exit code 74). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 74, cause: options.cause });
  }
}

/** Short, human reason for an unknown thrown value: `connection refused`, `permission denied`. */
export function describeCause(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Deno.errors.AlreadyExists) return "already exists";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOSPC") return "no space left on device";
  if (code === "EDQUOT") return "disk quota exceeded";
  if (code === "EROFS") return "read-only file system";
  if (error instanceof Error) return error.message.replace(/[.\s]+$/, "");
  return String(error);
}

/** wrapp lacks a privilege it needs (e.g. switching users without root). Exit code 77 (EX_NOPERM). */
export class PrivilegeError extends WrappError {
  /** Create a privilege error (exit code 77). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 77, cause: options.cause });
  }
}

/**
 * An eBPF sidecar (bpftrace) cannot run or failed: bpftrace missing or too old, tracefs
 * absent, a tracepoint or BTF missing, bpftrace exiting with an error. Exit code 69
 * (EX_UNAVAILABLE). A missing root is a {@linkcode PrivilegeError} instead.
 */
export class SidecarError extends WrappError {
  /** Create a sidecar error (exit code 69). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 69, cause: options.cause });
  }
}
