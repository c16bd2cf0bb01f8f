/**
 * Find the core dump of a crashed process the way the kernel wrote it: a file named by
 * `core_pattern` (relative ones in the process's working directory), a core kept by
 * systemd-coredump (`coredumpctl`), or one kept by apport (`/var/lib/apport/coredump`).
 *
 * The kernel may still be writing the core (or a pipe helper may still be storing it)
 * when wrapp sees the exit, so a core is only returned once its size stops changing.
 * When no core can come (RLIMIT_CORE 0, a pattern that discards cores, a missing folder)
 * the answer is immediate; otherwise the search gives up after a timeout. Either way the
 * result says why there is no core, in words a user can act on.
 *
 * @module
 */

import { basename, join } from "node:path";
import { type DebugLog, silentDebug } from "../../../core/debug.ts";
import { describeCause } from "../../../core/errors.ts";
import { setLongTimeout } from "../../../core/long_timeout.ts";
import { SIGNAL_NUMBERS } from "../../../core/signals.ts";
import {
  type ComponentMatcher,
  corePathMatchers,
  type CoreSettings,
  type CoreStrategy,
  describeExpansion,
  escapeRegExp,
  expandCorePattern,
  literalFolder,
  parseCorePattern,
} from "./core_pattern.ts";
import { formatLimit } from "./core_limit.ts";
import { findProgram } from "../../../core/find_executable.ts";

/** What is known about the process that crashed. */
export interface CrashedProcess {
  /** Its pid (as wrapp sees it). */
  pid: number;
  /** Its real uid. Default: unknown (a wildcard for `%u`). */
  uid?: number;
  /** Its real gid. Default: unknown (a wildcard for `%g`). */
  gid?: number;
  /** Its comm (`%e`). Default: the executable's base name, cut to 15 bytes like the kernel does. */
  comm?: string;
  /** The program as configured (a script or a binary). */
  executable: string;
  /** The ELF image that actually ran (the interpreter for a `#!` script). Default: `executable` with symlinks resolved. */
  image?: string;
  /** Its working directory when it started; relative patterns are resolved against it. */
  cwd: string;
  /** The fatal signal: a name (`"SIGSEGV"`) or a number. */
  signal: string | number;
  /** When wrapp saw it die, ms since the epoch. */
  crashTime: number;
  /** When it was started, ms since the epoch; older files never count as its core. */
  startTime?: number;
  /** Its soft RLIMIT_CORE in bytes (`Infinity` = unlimited), when known. Below one page, no core is written. */
  coreLimit?: number;
}

/** Options for {@linkcode findCore}. */
export interface FindCoreOptions {
  /** Give up after this long, ms. Default 10000. */
  timeoutMs?: number;
  /** A plain-file pattern's core is written before the exit is reported: wait at most this long for it, ms. Default 2000. */
  fileGraceMs?: number;
  /** How long a core's size must stay the same to count as complete, ms. Default 300. */
  settleMs?: number;
  /** Poll interval, ms. Default 100. */
  pollMs?: number;
  /** The kernel settings. Default: read from `/proc/sys/kernel`. */
  settings?: CoreSettings;
  /** Where /proc is. Default `/proc`. */
  procRoot?: string;
  /** The coredumpctl program. Default `"coredumpctl"`. */
  coredumpctl?: string;
  /** Folder where `coredumpctl dump` writes the core. Default: a new temporary folder (the result is `temporary`). */
  extractDir?: string;
  /** apport's core folder. Default `/var/lib/apport/coredump`. */
  apportDir?: string;
  /** apport's crash-report folder. Default `/var/crash`. */
  apportCrashDir?: string;
  /** `%h`. Default: unknown (a wildcard; the service may run in another UTS namespace). */
  hostname?: string;
  /** Debug logger. Default: silent. */
  debug?: DebugLog;
}

/** Where a found core came from. */
export type CoreSource = "file" | "systemd-coredump" | "apport";

/** What {@linkcode findCore} found. */
export type CoreLookup =
  | {
    readonly found: true;
    /** Path of the core file to give gdb. */
    readonly path: string;
    /** Its size in bytes. */
    readonly size: number;
    readonly via: CoreSource;
    /** For people: the path, or `systemd-coredump (coredumpctl dump 4242)`. */
    readonly description: string;
    /** wrapp extracted it into a temporary folder: delete it (and the folder) when done. */
    readonly temporary: boolean;
    /** The size was still changing when the timeout came: gdb may see a truncated core. */
    readonly incomplete: boolean;
    /** How long the search took, ms. */
    readonly waitedMs: number;
    readonly strategy: CoreStrategy;
  }
  | {
    readonly found: false;
    /** Why there is no core: `no core: core_pattern "…" but RLIMIT_CORE of the service was 0; set [crash] core_dumps = true`. */
    readonly reason: string;
    readonly waitedMs: number;
    readonly strategy?: CoreStrategy;
  };

/** Below this RLIMIT_CORE the kernel (min_coredump), systemd-coredump and apport keep no core. */
const _MIN_CORE_BYTES = 4096;
const _RAISE_HINT = "set [crash] core_dumps = true";

/**
 * Read `/proc/sys/kernel/core_pattern` and `core_uses_pid`. Throws `Deno.errors.*` when
 * they cannot be read.
 */
export async function readCoreSettings(procRoot = "/proc"): Promise<CoreSettings> {
  const pattern = await Deno.readTextFile(`${procRoot}/sys/kernel/core_pattern`);
  const usesPid = await Deno.readTextFile(`${procRoot}/sys/kernel/core_uses_pid`).then(
    (text) => text.trim() === "1",
    () => false,
  );
  return { pattern: pattern.replace(/\n$/, ""), usesPid };
}

/** Find the core of `process` (see the module doc). Never throws: problems become the `reason`. */
export async function findCore(
  process: CrashedProcess,
  options: FindCoreOptions = {},
): Promise<CoreLookup> {
  const started = performance.now();
  const waited = () => Math.round(performance.now() - started);
  const debug = options.debug ?? silentDebug;
  let settings: CoreSettings;
  try {
    settings = options.settings ?? await readCoreSettings(options.procRoot);
  } catch (error) {
    return {
      found: false,
      reason: `no core: cannot read "${options.procRoot ?? "/proc"}/sys/kernel/core_pattern": ${
        describeCause(error)
      }`,
      waitedMs: waited(),
    };
  }
  const strategy = parseCorePattern(settings);
  debug(`core_pattern ${JSON.stringify(settings.pattern)}: ${strategy.kind}`);
  const none = (reason: string): CoreLookup => ({
    found: false,
    reason: `no core: ${reason}`,
    waitedMs: waited(),
    strategy,
  });
  const limit = process.coreLimit;
  const limitTooSmall = limit !== undefined && limit < _MIN_CORE_BYTES;
  const limitReason = () =>
    `core_pattern "${settings.pattern}" but RLIMIT_CORE of the service was ${
      formatLimit(limit!)
    }; ${_RAISE_HINT}`;

  switch (strategy.kind) {
    case "none":
      return none(`${strategy.reason}, so the kernel keeps no core dumps`);
    case "pipe":
      return none(
        `core_pattern "${settings.pattern}" hands cores to "${strategy.helper}", whose storage wrapp cannot read; set kernel.core_pattern to a file pattern such as /var/crash/core.%e.%p.%t, or use systemd-coredump`,
      );
    case "file":
      // A program may raise its own limit: look once, but do not wait for a core that cannot come.
      return await _findFile(
        process,
        strategy,
        settings,
        options,
        none,
        waited,
        limitTooSmall ? limitReason() : undefined,
      );
    case "systemd-coredump":
      if (limitTooSmall) return none(limitReason());
      return await _findSystemd(process, strategy, options, none, waited);
    case "apport":
      if (limitTooSmall) return none(limitReason());
      return await _findApport(process, strategy, settings, options, none, waited);
  }
}

type _None = (reason: string) => CoreLookup;

/** The values a file pattern can be expanded with. */
async function _patternValues(process: CrashedProcess, options: FindCoreOptions) {
  const signal = typeof process.signal === "number"
    ? process.signal
    : SIGNAL_NUMBERS[process.signal];
  return {
    pid: process.pid,
    globalPid: await _inInitialPidNamespace(options.procRoot) ? process.pid : undefined,
    uid: process.uid,
    gid: process.gid,
    signal,
    hostname: options.hostname,
    comm: process.comm ?? basename(process.executable),
    executablePath: await _imagePath(process),
    coreLimit: process.coreLimit,
  };
}

async function _findFile(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "file" }>,
  settings: CoreSettings,
  options: FindCoreOptions,
  none: _None,
  waited: () => number,
  noCoreExpected?: string,
): Promise<CoreLookup> {
  const pieces = expandCorePattern(
    strategy.pattern,
    await _patternValues(process, options),
    { usesPid: strategy.usesPid },
  );
  const where = describeExpansion(pieces, process.cwd);
  const folder = literalFolder(pieces, process.cwd);
  if (folder !== undefined && noCoreExpected === undefined) {
    const info = await Deno.stat(folder).catch(() => undefined);
    if (!info?.isDirectory) {
      return none(
        `the folder "${folder}" of core_pattern "${settings.pattern}" does not exist; create it`,
      );
    }
  }
  const matchers = corePathMatchers(pieces, process.cwd);
  const grace = noCoreExpected !== undefined
    ? 0
    : Math.min(options.timeoutMs ?? 10_000, options.fileGraceMs ?? 2000);
  const found = await _poll(grace, options.pollMs, () => _newest(matchers, process));
  (options.debug ?? silentDebug)(`core file ${where}: ${found ?? "not found"}`);
  if (found === undefined && noCoreExpected !== undefined) return none(noCoreExpected);
  if (found === undefined) {
    const causes = [
      `the folder may not be writable${process.uid !== undefined ? ` for uid ${process.uid}` : ""}`,
      ...(process.coreLimit === undefined
        ? [`RLIMIT_CORE of the service may be 0 (${_RAISE_HINT})`]
        : []),
      "the disk may be full",
      "or the program changed its working directory or made itself non-dumpable",
    ];
    return none(
      `no file matches "${where}" (core_pattern "${settings.pattern}") ${grace} ms after the crash: ${
        causes.join(", ")
      }`,
    );
  }
  const settled = await _settle(found, options, waited);
  return {
    found: true,
    path: found,
    size: settled.size,
    via: "file",
    description: found,
    temporary: false,
    incomplete: !settled.stable,
    waitedMs: waited(),
    strategy,
  };
}

async function _findApport(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "apport" }>,
  settings: CoreSettings,
  options: FindCoreOptions,
  none: _None,
  waited: () => number,
): Promise<CoreLookup> {
  const procRoot = options.procRoot ?? "/proc";
  const dir = options.apportDir ?? "/var/lib/apport/coredump";
  const image = await _imagePath(process);
  const mangled = apportName(image);
  const bootId = (await Deno.readTextFile(`${procRoot}/sys/kernel/random/boot_id`).catch(() => ""))
    .trim();
  const uid = process.uid === undefined ? "\\d+" : String(process.uid);
  const name = new RegExp(
    `^core\\.${escapeRegExp(mangled)}\\.${uid}\\.${
      bootId === "" ? "[0-9a-f-]+" : escapeRegExp(bootId)
    }\\.${process.pid}\\.\\d+$`,
  );
  const dirMatchers = corePathMatchers([{ kind: "text", text: dir }], "/");
  const matchers: ComponentMatcher[][] = [
    [...dirMatchers, { kind: "regex", regex: name, source: name.source }],
    // apport before 2.20.11 wrote "core" (or "core.PID") into the working directory.
    corePathMatchers([{ kind: "text", text: "core" }], process.cwd),
    corePathMatchers([{ kind: "text", text: `core.${process.pid}` }], process.cwd),
  ];
  const timeout = options.timeoutMs ?? 10_000;
  const found = await _poll(timeout, options.pollMs, async () => {
    for (const m of matchers) {
      const path = await _newest(m, process);
      if (path !== undefined) return path;
    }
    return undefined;
  });
  if (found === undefined) {
    const crashDir = options.apportCrashDir ?? "/var/crash";
    const report = join(crashDir, `${mangled}.${process.uid ?? Deno.uid() ?? 0}.crash`);
    const info = await Deno.stat(report).catch(() => undefined);
    if (info?.mtime && info.mtime.getTime() >= _since(process)) {
      return none(
        `apport wrote a crash report "${report}" instead of a core file; "apport-unpack ${report} DIR" extracts its CoreDump`,
      );
    }
    return none(
      `apport (core_pattern "${settings.pattern}") wrote no core for pid ${process.pid} within ${timeout} ms (expected "${dir}/core.${mangled}.${
        process.uid ?? "UID"
      }.${bootId || "BOOT"}.${process.pid}.*"); see /var/log/apport.log`,
    );
  }
  // apport is still storing the core while its helper runs for this pid.
  await _poll(
    Math.max(0, timeout - waited()),
    options.pollMs,
    async () => (await _helperRunning(strategy.helper, process.pid, procRoot)) ? undefined : true,
  );
  const settled = await _settle(found, options, waited);
  return {
    found: true,
    path: found,
    size: settled.size,
    via: "apport",
    description: found,
    temporary: false,
    incomplete: !settled.stable,
    waitedMs: waited(),
    strategy,
  };
}

/**
 * apport's name for an executable in core file names: the path with `/` and `.` turned
 * into `_` (`/opt/svc/bin/svc.x` → `_opt_svc_bin_svc_x`).
 */
export function apportName(executablePath: string): string {
  return executablePath.replace(/[/.]/g, "_");
}

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

async function _findSystemd(
  process: CrashedProcess,
  strategy: Extract<CoreStrategy, { kind: "systemd-coredump" }>,
  options: FindCoreOptions,
  none: _None,
  waited: () => number,
): Promise<CoreLookup> {
  const coredumpctl = options.coredumpctl ?? "coredumpctl";
  const timeout = options.timeoutMs ?? 10_000;
  const since = `--since=@${Math.floor(_since(process) / 1000)}`;
  const pid = String(process.pid);
  let lastError = "";
  let jsonWorks = true;
  const entry = await _poll(timeout, Math.max(options.pollMs ?? 100, 250), async () => {
    const remaining = Math.max(1000, timeout - waited());
    const args = jsonWorks
      ? ["--no-pager", "--json=short", since, "list", pid]
      : ["--no-pager", since, "info", pid];
    const result = await _run(coredumpctl, args, remaining);
    if (result.notFound) return { missing: true } as const;
    if (result.code !== 0) {
      if (jsonWorks && /unrecognized option|unknown option/i.test(result.stderr)) jsonWorks = false;
      lastError = result.stderr.trim().split("\n").at(-1) ?? "";
      return undefined;
    }
    if (!jsonWorks) {
      const storage = /^\s*Storage:\s*(.*)$/m.exec(result.stdout)?.[1] ?? "";
      const state = /\((present|missing|truncated|inaccessible|journal)\)\s*$/.exec(storage)?.[1] ??
        (storage.includes("journal") ? "journal" : "none");
      return { row: { time: 0, pid: process.pid, corefile: state } } as const;
    }
    const rows = parseCoredumpList(result.stdout).filter((r) => r.pid === process.pid);
    const row = rows.sort((a, b) => b.time - a.time)[0];
    return row ? { row } as const : undefined;
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
  if (!["present", "journal", "truncated"].includes(state)) {
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
  const result = await _run(
    coredumpctl,
    ["--no-pager", since, "-o", path, "dump", pid],
    Math.max(5000, timeout - waited()),
  );
  const info = await Deno.stat(path).catch(() => undefined);
  if (result.code !== 0 || !info?.isFile || info.size === 0) {
    if (temporary) await Deno.remove(dir, { recursive: true }).catch(() => {});
    return none(
      `"coredumpctl dump ${pid}" failed${
        result.stderr.trim() ? `: ${result.stderr.trim().split("\n").at(-1)}` : ""
      }`,
    );
  }
  return {
    found: true,
    path,
    size: info.size,
    via: "systemd-coredump",
    description: `systemd-coredump (coredumpctl dump ${pid})`,
    temporary,
    incomplete: state === "truncated",
    waitedMs: waited(),
    strategy,
  };
}

/** Files older than this (ms since the epoch) are never the core of `process`. */
function _since(process: CrashedProcess): number {
  // A huge core can take minutes to write, and file times are coarse: allow for both.
  return Math.max(process.startTime ?? -Infinity, process.crashTime - 10 * 60_000) - 2000;
}

/** The newest regular file matching `matchers` that is not older than the process. */
async function _newest(
  matchers: readonly ComponentMatcher[],
  process: CrashedProcess,
): Promise<string | undefined> {
  const since = _since(process);
  let best: { path: string; time: number } | undefined;
  for (const path of await globComponents(matchers)) {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info?.isFile) continue;
    // A fresh core was written during the crash, so its mtime is recent; an old core of an
    // earlier run with the same name is not (the kernel replaces a file, never appends).
    const time = info.mtime?.getTime() ?? 0;
    if (time < since) continue;
    if (!best || time > best.time) best = { path, time };
  }
  return best?.path;
}

/**
 * Every existing path whose components match `matchers` (literal names are taken as
 * they are, regexes are matched against folder entries). At most `limit` paths.
 */
export async function globComponents(
  matchers: readonly ComponentMatcher[],
  limit = 1000,
): Promise<string[]> {
  let paths = ["/"];
  for (const matcher of matchers) {
    const next: string[] = [];
    for (const base of paths) {
      if (matcher.kind === "literal") {
        next.push(join(base, matcher.name));
        continue;
      }
      try {
        for await (const entry of Deno.readDir(base)) {
          if (matcher.regex.test(entry.name)) next.push(join(base, entry.name));
          if (next.length >= limit) break;
        }
      } catch {
        // not a folder, or not readable
      }
    }
    paths = next;
    if (paths.length === 0) break;
  }
  const existing: string[] = [];
  for (const path of paths) {
    if (await Deno.lstat(path).then(() => true, () => false)) existing.push(path);
  }
  return existing;
}

/** Wait until the file's size and mtime stop changing for `settleMs`, or the timeout. */
async function _settle(
  path: string,
  options: FindCoreOptions,
  waited: () => number,
): Promise<{ size: number; stable: boolean }> {
  const settleMs = options.settleMs ?? 300;
  const timeout = options.timeoutMs ?? 10_000;
  const pollMs = Math.min(options.pollMs ?? 100, settleMs);
  let last = await Deno.stat(path);
  let stableSince = performance.now();
  while (true) {
    if (performance.now() - stableSince >= settleMs) return { size: last.size, stable: true };
    if (waited() >= timeout) return { size: last.size, stable: false };
    await _sleep(pollMs);
    const now = await Deno.stat(path).catch(() => last);
    if (now.size !== last.size || now.mtime?.getTime() !== last.mtime?.getTime()) {
      stableSince = performance.now();
    }
    last = now;
  }
}

/** Call `check` every `pollMs` until it returns a value or `timeoutMs` passes. */
async function _poll<T>(
  timeoutMs: number,
  pollMs = 100,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) return undefined;
    await _sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())));
  }
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The real path of the ELF that ran: `image`, else `executable` with symlinks resolved. */
async function _imagePath(process: CrashedProcess): Promise<string> {
  const path = process.image ?? process.executable;
  return await Deno.realPath(path).catch(() => path);
}

/** Whether wrapp runs in the initial pid namespace (so `%P` equals `%p`). */
async function _inInitialPidNamespace(procRoot = "/proc"): Promise<boolean> {
  const status = await Deno.readTextFile(`${procRoot}/self/status`).catch(() => "");
  const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1];
  return nspid !== undefined && nspid.trim().split(/\s+/).length === 1;
}

/** Whether a pipe helper (argv[0] = `helper`) still runs with `pid` among its arguments. */
async function _helperRunning(helper: string, pid: number, procRoot: string): Promise<boolean> {
  const name = basename(helper);
  try {
    for await (const entry of Deno.readDir(procRoot)) {
      if (!/^\d+$/.test(entry.name)) continue;
      const cmdline = await Deno.readTextFile(join(procRoot, entry.name, "cmdline")).catch(() =>
        ""
      );
      const args = cmdline.split("\0");
      // apport is a Python script: its name is argv[1] of the interpreter.
      if (!args.some((a) => basename(a) === name)) continue;
      if (args.some((a) => a === String(pid) || a === `-p${pid}`)) return true;
    }
  } catch {
    // no /proc: assume it is done
  }
  return false;
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
