/**
 * Typed errors. Every error wrapp reports on purpose is a {@linkcode WrappError}
 * carrying the exit code the CLI should end with; anything else is a bug (exit 70).
 *
 * Messages are capitalised, have no trailing period, quote values and put details
 * after a colon: `Cannot connect to Redis at "10.0.0.2:6379": connection refused`.
 *
 * @module
 */

/**
 * Base of every error wrapp raises deliberately.
 *
 * @example Ending a program with the error's exit code
 * ```ts
 * import { loadConfig, WrappError } from "@wrapp/wrapp";
 *
 * try {
 *   await loadConfig("missing.toml");
 * } catch (error) {
 *   if (!(error instanceof WrappError)) throw error; // a bug
 *   console.error(error.message);
 *   Deno.exit(error.exitCode);
 * }
 * ```
 */
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

/**
 * Wrong command line: unknown command or flag, missing argument. Exit code 2.
 *
 * @example A misspelt option
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "@wrapp/wrapp";
 *
 * const error = new UsageError('Unknown option "--jsn" (did you mean "--json"?)');
 * assert.equal(error.exitCode, 2);
 * assert.equal(error.name, "UsageError");
 * ```
 */
export class UsageError extends WrappError {
  /** Create a usage error (exit code 2). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
  }
}

/**
 * Invalid configuration: TOML syntax, unknown key, wrong type, missing executable. Exit code 2.
 *
 * @example What loadConfig throws
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, loadConfig } from "@wrapp/wrapp";
 *
 * await assert.rejects(() => loadConfig("missing.toml"), ConfigError);
 * assert.equal(new ConfigError('Unknown key "[app] exe"').exitCode, 2);
 * ```
 */
export class ConfigError extends WrappError {
  /** Create a configuration error (exit code 2). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, cause: options.cause });
  }
}

/**
 * The supervised program could not be started (spawn failed, user switch impossible). Exit code 127 like a shell.
 *
 * @example Exit code 127, like a shell
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpawnError, WrappError } from "@wrapp/wrapp";
 *
 * const error = new SpawnError('Cannot start "/opt/app/server": no such file or directory');
 * assert.ok(error instanceof WrappError);
 * assert.equal(error.exitCode, 127);
 * ```
 */
export class SpawnError extends WrappError {
  /** Create a spawn error (exit code 127). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 127, cause: options.cause });
  }
}

/**
 * A sink could not be opened or written (e.g. the trace directory is not writable). Exit code 74 (EX_IOERR).
 *
 * @example Exit code 74 (EX_IOERR)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SinkError } from "@wrapp/wrapp";
 *
 * const error = new SinkError('Cannot create trace folder "/srv/app": permission denied');
 * assert.equal(error.exitCode, 74);
 * ```
 */
export class SinkError extends WrappError {
  /** Create a sink error (exit code 74). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 74, cause: options.cause });
  }
}

/**
 * Short, human reason for an unknown thrown value: `connection refused`, `permission denied`.
 *
 * @example The reason, for a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeCause } from "@wrapp/wrapp";
 *
 * try {
 *   await Deno.readTextFile("/nonexistent/app.toml");
 * } catch (error) {
 *   assert.equal(describeCause(error), "no such file or directory");
 * }
 * assert.equal(describeCause(new Error("Broken pipe.")), "Broken pipe");
 * ```
 */
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

/**
 * wrapp lacks a privilege it needs (e.g. switching users without root). Exit code 77 (EX_NOPERM).
 *
 * @example Exit code 77 (EX_NOPERM)
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrivilegeError } from "@wrapp/wrapp";
 *
 * const error = new PrivilegeError('Cannot run as user "app": wrapp is not running as root');
 * assert.equal(error.exitCode, 77);
 * ```
 */
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
 *
 * @example Exit code 69 (EX_UNAVAILABLE)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SidecarError } from "@wrapp/wrapp";
 *
 * const error = new SidecarError("bpftrace is not installed: apt-get install bpftrace");
 * assert.equal(error.exitCode, 69);
 * ```
 */
export class SidecarError extends WrappError {
  /** Create a sidecar error (exit code 69). */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 69, cause: options.cause });
  }
}
