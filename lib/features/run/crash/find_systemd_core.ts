/**
 * The core of a crashed process when core_pattern hands cores to systemd-coredump: wait
 * until `coredumpctl` lists the crash, then have `coredumpctl dump` write the core into
 * a folder (a temporary one unless told otherwise).
 *
 * @module
 */

import { basename, join } from "../../../core/posix_path.ts";
import { describeCause } from "../../../core/errors.ts";
import { setLongTimeout } from "../../../core/long_timeout.ts";
import { findProgram } from "../../../core/find_executable.ts";
import type { CoreStrategy } from "./core_pattern.ts";
import {
  type CoreLookup,
  type CrashedProcess,
  type FindCoreOptions,
  type NoCore,
  oldestCoreTime,
} from "./core_lookup.ts";
import { pollUntil } from "./poll.ts";

/** One row of `coredumpctl --json=short list`. */
export interface CoredumpEntry {
  /** µs since the epoch. */
  time: number;
  pid: number;
  uid?: number;
  sig?: number;
  /** `present`, `journal`, `missing`, `none`, `truncated`, `inaccessible`, `error`. */
  corefile?: string;
  exe?: string;
  size?: number;
}

/**
 * Parse `coredumpctl --json=short list` output: a JSON array, or (some versions) one
 * object per line. Rows without a numeric pid are skipped.
 */
export function parseCoredumpList(text: string): CoredumpEntry[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  let rows: unknown[];
  try {
    const parsed = JSON.parse(trimmed);
    rows = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    rows = trimmed.split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line.trim().replace(/,$/, ""))];
      } catch {
        return [];
      }
    });
  }
  return rows.filter((r): r is CoredumpEntry =>
    typeof r === "object" && r !== null && typeof (r as CoredumpEntry).pid === "number"
  );
}

/** The `corefile` states in which systemd-coredump still has the core. */
const _KEPT_STATES = ["present", "journal", "truncated"];

/** Find the core systemd-coredump keeps for `process`, waiting up to the timeout for it. */
export async function findSystemdCore(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "systemd-coredump" }>,
  options: FindCoreOptions,
  none: NoCore,
  waited: () => number,
): Promise<CoreLookup> {
  const coredumpctl = options.coredumpctl ?? "coredumpctl";
  const timeout = options.timeoutMs ?? 10_000;
  const since = `--since=@${Math.floor(oldestCoreTime(process) / 1000)}`;
  const pid = String(process.pid);
  const { entry, lastError } = await _waitForRecord(coredumpctl, since, process.pid, {
    timeout,
    pollMs: options.pollMs,
    waited,
  });
  if (entry === undefined) {
    return none(
      `systemd-coredump did not record the crash of pid ${process.pid} within ${timeout} ms${
        lastError && !/No coredumps found/i.test(lastError) ? ` (coredumpctl: ${lastError})` : ""
      }; check "coredumpctl list ${process.pid}" and Storage= in /etc/systemd/coredump.conf`,
    );
  }
  if ("missing" in entry) {
    return none(
      `core_pattern hands cores to systemd-coredump, but "${coredumpctl}" is not installed (apt-get install systemd-coredump)`,
    );
  }
  const state = entry.row.corefile ?? "present";
  if (!_KEPT_STATES.includes(state)) {
    return none(
      `systemd-coredump recorded the crash of pid ${process.pid} but kept no core (corefile "${state}"; see Storage= and ProcessSizeMax= in /etc/systemd/coredump.conf); "coredumpctl info ${process.pid}" shows its stack trace`,
    );
  }
  let dir = options.extractDir;
  const temporary = dir === undefined;
  try {
    dir ??= await Deno.makeTempDir({ prefix: "wrapp-core-" });
  } catch (error) {
    return none(`cannot create a folder for the core: ${describeCause(error)}`);
  }
  const path = join(dir, `core.${basename(process.executable)}.${process.pid}`);
  const dumped = await _dump(coredumpctl, since, pid, path, Math.max(5000, timeout - waited()));
  if (typeof dumped === "string") {
    if (temporary) await Deno.remove(dir, { recursive: true }).catch(() => {});
    return none(dumped);
  }
  return {
    found: true,
    path,
    size: dumped.size,
    via: "systemd-coredump",
    description: `systemd-coredump (coredumpctl dump ${pid})`,
    temporary,
    incomplete: state === "truncated",
    waitedMs: waited(),
    strategy,
  };
}

/** What coredumpctl says about the crash: its record, or that coredumpctl is missing. */
type _Record = { readonly row: CoredumpEntry } | { readonly missing: true };

/**
 * Ask coredumpctl about `pid` until it lists the crash (with `--json=short list`, or
 * `info` when this coredumpctl has no JSON) or the timeout passes. `lastError` is the last
 * line of its last complaint.
 */
async function _waitForRecord(
  coredumpctl: string,
  since: string,
  pid: number,
  { timeout, pollMs, waited }: { timeout: number; pollMs?: number; waited: () => number },
): Promise<{ entry?: _Record; lastError: string }> {
  let lastError = "";
  let jsonWorks = true;
  const entry = await pollUntil(timeout, Math.max(pollMs ?? 100, 250), async () => {
    const remaining = Math.max(1000, timeout - waited());
    const args = jsonWorks
      ? ["--no-pager", "--json=short", since, "list", String(pid)]
      : ["--no-pager", since, "info", String(pid)];
    const result = await _run(coredumpctl, args, remaining);
    if (result.notFound) return { missing: true } as const;
    if (result.code !== 0) {
      if (jsonWorks && /unrecognized option|unknown option/i.test(result.stderr)) jsonWorks = false;
      lastError = result.stderr.trim().split("\n").at(-1) ?? "";
      return undefined;
    }
    if (!jsonWorks) return { row: _rowFromInfo(result.stdout, pid) } as const;
    const rows = parseCoredumpList(result.stdout).filter((r) => r.pid === pid);
    const row = rows.sort((a, b) => b.time - a.time)[0];
    return row ? { row } as const : undefined;
  });
  return { entry, lastError };
}

/** The core's state from `coredumpctl info` output (its `Storage:` line). */
function _rowFromInfo(stdout: string, pid: number): CoredumpEntry {
  const storage = /^\s*Storage:\s*(.*)$/m.exec(stdout)?.[1] ?? "";
  const state = /\((present|missing|truncated|inaccessible|journal)\)\s*$/.exec(storage)?.[1] ??
    (storage.includes("journal") ? "journal" : "none");
  return { time: 0, pid, corefile: state };
}

/** `coredumpctl dump` the core of `pid` into `path`: its size, or why it failed. */
async function _dump(
  coredumpctl: string,
  since: string,
  pid: string,
  path: string,
  timeoutMs: number,
): Promise<{ size: number } | string> {
  const result = await _run(coredumpctl, ["--no-pager", since, "-o", path, "dump", pid], timeoutMs);
  const info = await Deno.stat(path).catch(() => undefined);
  if (result.code !== 0 || !info?.isFile || info.size === 0) {
    return `"coredumpctl dump ${pid}" failed${
      result.stderr.trim() ? `: ${result.stderr.trim().split("\n").at(-1)}` : ""
    }`;
  }
  return { size: info.size };
}

/** Run a program with a time limit, collecting its output. */
async function _run(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string; notFound?: boolean }> {
  const path = await findProgram(program);
  if (path === undefined) {
    return { code: 127, stdout: "", stderr: "no such file or directory", notFound: true };
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C", SYSTEMD_PAGER: "", SYSTEMD_COLORS: "0" },
    }).spawn();
  } catch (error) {
    return {
      code: 127,
      stdout: "",
      stderr: describeCause(error),
      notFound: error instanceof Deno.errors.NotFound,
    };
  }
  // core_timeout may be longer than setTimeout can wait.
  const timer = setLongTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, timeoutMs);
  try {
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    timer.clear();
  }
}
