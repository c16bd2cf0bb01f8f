/**
 * `wrapp doctor`: say what this machine lacks for each of wrapp's features (root, the
 * kernel, bpftrace, tracefs/debugfs and the tracepoints, BTF, gdb, core dumps,
 * util-linux, binutils, free disk for the spool, Redis), as a table with what to do
 * about each problem. With `--config`, only what that service needs decides the exit
 * code. It only looks: it never mounts tracefs nor changes a setting.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { parseFlags } from "./parse_flags.ts";
import { loadConfig } from "../core/config/load_config.ts";
import { redisUrlFlag } from "../core/config/redis_url_flag.ts";
import { MIN_BPFTRACE_VERSION } from "../pipeline/bpf/preflight.ts";
import { basename } from "node:path";
import {
  type CheckResult,
  type CheckStatus,
  countResults,
  exitCodeOf,
} from "../features/doctor/check_result.ts";
import { MIN_KERNEL_VERSION } from "../features/doctor/kernel_check.ts";
import type { RedisTarget } from "../features/doctor/machine_checks.ts";
import { diagnose, redisTargetOf } from "../features/doctor/diagnose.ts";

/** `wrapp doctor --help`. */
export const DOCTOR_HELP = `Usage: wrapp doctor [options]

Say what this machine lacks for wrapp's features, as a table, one line per check:
  ✓ ok    ! warning (works, with less)    ✗ missing (a feature will not work)
  - missing, but the --config service does not use it
and, under each problem, what to do (→). doctor only looks: it mounts nothing and
changes no setting. Run it with sudo to see everything (tracefs is root's).

Checks: root, the kernel (${MIN_KERNEL_VERSION.join(".")} or newer for eBPF), bpftrace (${
  MIN_BPFTRACE_VERSION.join(".")
} or newer), tracefs,
debugfs, the tracepoints wrapp attaches to, BTF (informational), crash eBPF (are
wrapp's own eBPF programs accepted: loaded and closed at once; else bpftrace is used),
gdb, gdbserver (and whether the kernel lets it attach), core dumps (core_pattern, RLIMIT_CORE), setpriv and
prlimit (util-linux), c++filt (binutils), free disk where the Redis spool goes, Redis
when --config or --redis names one, and how the --config service's [limits] will be
enforced (its own cgroup, or wrapp watching its RSS) and why.

Options:
  -c, --config FILE    check for this service config: its gdb, [crash] core_dumps, its
                       [redis] server (PING) and spool folder; only what the config
                       uses ([trace], [memprof], [app] user, [crash], [redis],
                       [debug]) counts for the exit code
      --redis URL      PING this server: redis://[user:password@]host:port or rediss://
      --json           print a JSON array of {"check","status","needed","message","fix"?},
                       status being "ok", "warning" or "missing"; needed is false for
                       what the --config service does not use
  -h, --help           show this help

Exit code 1 when something needed is missing (everything is needed without --config;
warnings never count), else 0.

Examples:
  sudo wrapp doctor
  sudo wrapp doctor --config /etc/wrapp/robot.toml
  wrapp doctor --redis redis://10.0.0.2:6379 --json`;

/** What the command needs from its caller. */
export interface DoctorContext {
  /** Print one line (or block) to stdout. */
  print(text: string): void;
  /** Debug output (`WRAPP_DEBUG`). */
  debug: (message: string) => void;
}

/** Run `wrapp doctor ARGS…`; resolves to the exit code (0, or 1 when something is missing). */
export async function doctorCommand(
  args: readonly string[],
  context: DoctorContext,
): Promise<number> {
  const options = _parse(args);
  if (options === "help") {
    context.print(DOCTOR_HELP);
    return 0;
  }
  const config = options.config === undefined
    ? undefined
    : await loadConfig(options.config, { checkExecutable: false });
  let redis: RedisTarget | undefined;
  if (options.redis !== undefined) {
    redis = { endpoint: redisUrlFlag(options.redis, (name) => Deno.env.get(name)), db: 0 };
  } else {
    redis = redisTargetOf(config);
  }
  const judged = await diagnose(
    { config, redis, redisFromFlag: options.redis !== undefined },
    context.debug,
  );
  context.print(
    options.json ? JSON.stringify(judged, null, 2) : formatResults(judged, {
      configName: config ? basename(config.file) : undefined,
      width: _terminalWidth(),
    }),
  );
  return exitCodeOf(judged);
}

const _MARKS: Record<CheckStatus, string> = { ok: "✓", warning: "!", missing: "✗" };

/** Options for {@linkcode formatResults}. */
export interface FormatResultsOptions {
  /** The `--config` file's name, for the count line. */
  configName?: string;
  /** Wrap the result column to this many characters (a terminal's width). Default: no wrapping. */
  width?: number;
}

/**
 * The text report, a table:
 *
 * ```
 *   CHECK        RESULT
 * ✓ root         running as root
 * ✗ gdb          "gdb" is not in PATH (needed for crash backtraces from cores)
 *                → apt-get install gdb
 * 1 problem, 0 warnings
 * ```
 *
 * `-` marks a check missing but not needed by the `--config` service.
 */
export function formatResults(
  results: readonly CheckResult[],
  options: FormatResultsOptions = {},
): string {
  const width = Math.max(5, ...results.map((r) => r.check.length));
  const indent = " ".repeat(width + 4);
  const wrap = (text: string): string[] =>
    options.width ? _wrap(text, Math.max(30, options.width - indent.length)) : [text];
  const lines = [`  ${"CHECK".padEnd(width)}  RESULT`];
  for (const result of results) {
    const mark = result.status === "missing" && result.needed === false
      ? "-"
      : _MARKS[result.status];
    const [first, ...rest] = wrap(result.message);
    lines.push(`${mark} ${result.check.padEnd(width)}  ${first}`);
    for (const line of rest) lines.push(indent + line);
    if (result.fix !== undefined && result.status !== "ok") {
      const [fix, ...more] = wrap(`→ ${result.fix}`);
      lines.push(indent + fix);
      for (const line of more) lines.push(`${indent}  ${line}`);
    }
  }
  const { problems, warnings, unneeded } = countResults(results);
  lines.push(
    `${problems} ${problems === 1 ? "problem" : "problems"}, ${warnings} ${
      warnings === 1 ? "warning" : "warnings"
    }${
      unneeded > 0
        ? `; ${unneeded} missing but not used by ${options.configName ?? "the config"}`
        : ""
    }`,
  );
  return lines.join("\n");
}

/** Break `text` into lines of at most `width` characters, at spaces where it can. */
function _wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** The terminal's width when stdout is one (the table is then wrapped to it). */
function _terminalWidth(): number | undefined {
  try {
    return Deno.stdout.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    return undefined;
  }
}

function _parse(
  args: readonly string[],
): { config?: string; redis?: string; json: boolean } | "help" {
  const spec = {
    config: { type: "string", short: "c" },
    redis: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const parsed = parseFlags("doctor", args, spec, Infinity);
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new UsageError(
      `Too many arguments for "wrapp doctor": ${
        positionals.join(" ")
      } (a config goes after --config)`,
    );
  }
  return { config: values.config, redis: values.redis, json: values.json === true };
}
