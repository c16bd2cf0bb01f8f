/**
 * What a bpftrace sidecar needs before it starts, checked up front so the user reads one
 * precise sentence instead of a bpftrace stack of errors:
 *
 * - root (bpftrace refuses to run otherwise);
 * - a `bpftrace` binary, version 0.14 or newer (Ubuntu 22.04 / JetPack 6 ships 0.14);
 * - tracefs, where tracepoints live: at `/sys/kernel/tracing`, or under a mounted debugfs.
 *   When it is absent and wrapp is root, it is mounted;
 * - the tracepoints the program attaches to;
 * - BTF (`/sys/kernel/btf/vmlinux`) only when asked: tracepoint programs do without it,
 *   which matters on L4T kernels built without it.
 *
 * @module
 */

import { PrivilegeError, SidecarError } from "../../core/errors.ts";
import { findExecutable } from "../../core/find_executable.ts";
import { pathExists } from "../../core/path_exists.ts";
import { readMounts } from "../../core/mounts.ts";

/** Oldest bpftrace wrapp's programs are written for. */
export const MIN_BPFTRACE_VERSION: readonly [number, number, number] = [0, 14, 0];

/** Options for {@linkcode preflight}. Paths are options so tests can point them elsewhere. */
export interface PreflightOptions {
  /** bpftrace binary: a path, or a name looked up in PATH. Default `$WRAPP_BPFTRACE`, else `"bpftrace"`. */
  bpftrace?: string;
  /** Tracepoints the program attaches to, as `category:name`. Default none. */
  tracepoints?: readonly string[];
  /** Whether BTF is required (kfunc/fentry programs). Default false. */
  needBtf?: boolean;
  /** Mount tracefs when it is absent and wrapp is root. Default true. */
  mountTracefs?: boolean;
  /** Effective uid. Default `Deno.uid()`. */
  uid?: number;
  /** The mount table. Default `/proc/self/mounts`. */
  mountsFile?: string;
  /** Where tracefs is mounted normally. Default `/sys/kernel/tracing`. */
  tracefsDir?: string;
  /** Where debugfs is mounted; tracefs appears in its `tracing` folder. Default `/sys/kernel/debug`. */
  debugfsDir?: string;
  /** The kernel's BTF. Default `/sys/kernel/btf/vmlinux`. */
  btfFile?: string;
}

/** What {@linkcode preflight} found. */
export interface PreflightReport {
  /** wrapp runs as root. */
  root: boolean;
  /** The bpftrace binary, when found and working. */
  bpftrace?: { path: string; version: string };
  /** Folder holding `events/`, when tracefs is available. */
  tracefs?: string;
  /** Whether wrapp mounted tracefs itself. */
  mountedTracefs: boolean;
  /** Whether the kernel has BTF. */
  btf: boolean;
  /** Tracepoints asked for that the kernel lacks (only known when tracefs is readable). */
  missingTracepoints: string[];
  /** One sentence per problem, each saying what is missing and how to get it; empty when ready. */
  problems: string[];
  /** Whether "not root" is among the problems (the error is then a {@linkcode PrivilegeError}). */
  needsRoot: boolean;
}

/** Check everything a sidecar needs; never throws for a missing piece (see {@linkcode assertReady}). */
export async function preflight(options: PreflightOptions = {}): Promise<PreflightReport> {
  const uid = options.uid ?? Deno.uid() ?? -1;
  const root = uid === 0;
  const report: PreflightReport = {
    root,
    mountedTracefs: false,
    btf: await pathExists(options.btfFile ?? "/sys/kernel/btf/vmlinux"),
    missingTracepoints: [],
    problems: [],
    needsRoot: !root,
  };
  if (!root) report.problems.push("wrapp is not root (run it with sudo)");
  await _checkBpftrace(options, report);
  await _findTracefs(options, report);
  // Tracepoints: only visible to root.
  if (report.tracefs !== undefined && root) await _checkTracepoints(options, report);
  if (options.needBtf && !report.btf) {
    report.problems.push(
      `the kernel has no BTF (${
        options.btfFile ?? "/sys/kernel/btf/vmlinux"
      } is missing; it needs CONFIG_DEBUG_INFO_BTF=y)`,
    );
  }
  return report;
}

/** Find bpftrace and check its version; sets `report.bpftrace` when it runs. */
async function _checkBpftrace(options: PreflightOptions, report: PreflightReport): Promise<void> {
  const wanted = options.bpftrace ?? (Deno.env.get("WRAPP_BPFTRACE") || "bpftrace");
  const path = await findExecutable(wanted);
  if (path === undefined) {
    report.problems.push(
      wanted.includes("/")
        ? `bpftrace is not at "${wanted}" (no executable file there)`
        : `bpftrace is not installed (no "${wanted}" in PATH): install it with "apt-get install bpftrace", or pass --bpftrace PATH`,
    );
    return;
  }
  const version = await bpftraceVersion(path);
  if (typeof version !== "string") {
    report.problems.push(`"${path} --version" failed: ${version.error}`);
    return;
  }
  if (_compareVersions(_parseVersion(version), MIN_BPFTRACE_VERSION) < 0) {
    report.problems.push(
      `bpftrace ${version} at "${path}" is too old: wrapp needs ${
        MIN_BPFTRACE_VERSION.join(".")
      } or newer`,
    );
  }
  report.bpftrace = { path, version };
}

/**
 * Find where tracefs is mounted (its usual folder, under debugfs, or anywhere), mounting
 * it when it is absent and wrapp is root; sets `report.tracefs`.
 */
async function _findTracefs(options: PreflightOptions, report: PreflightReport): Promise<void> {
  const tracefsDir = options.tracefsDir ?? "/sys/kernel/tracing";
  const debugfsDir = options.debugfsDir ?? "/sys/kernel/debug";
  const mounts = await readMounts(options.mountsFile).catch(() => []);
  if (mounts.some((m) => m.type === "tracefs" && m.dir === tracefsDir)) {
    report.tracefs = tracefsDir;
  } else if (mounts.some((m) => m.type === "debugfs" && m.dir === debugfsDir)) {
    report.tracefs = `${debugfsDir}/tracing`; // the kernel automounts tracefs there
  } else if (mounts.some((m) => m.type === "tracefs")) {
    report.tracefs = mounts.find((m) => m.type === "tracefs")!.dir;
  } else if (!report.root) {
    report.problems.push(`tracefs is not mounted at ${tracefsDir} and wrapp is not root`);
  } else if (options.mountTracefs === false) {
    report.problems.push(
      `tracefs is not mounted at ${tracefsDir}: mount it with "mount -t tracefs nodev ${tracefsDir}"`,
    );
  } else {
    const failure = await _mountTracefs(tracefsDir);
    if (failure === undefined) {
      report.tracefs = tracefsDir;
      report.mountedTracefs = true;
    } else {
      report.problems.push(
        `tracefs is not mounted at ${tracefsDir} and mounting it failed: ${failure}`,
      );
    }
  }
}

/** List the asked-for tracepoints missing under `report.tracefs` (which must be set). */
async function _checkTracepoints(
  options: PreflightOptions,
  report: PreflightReport,
): Promise<void> {
  for (const tracepoint of options.tracepoints ?? []) {
    const [category, name] = tracepoint.split(":");
    if (!await pathExists(`${report.tracefs}/events/${category}/${name}`)) {
      report.missingTracepoints.push(tracepoint);
    }
  }
  if (report.missingTracepoints.length > 0) {
    const list = report.missingTracepoints.join(", ");
    const hint = report.missingTracepoints.some((t) => t.startsWith("raw_syscalls:"))
      ? " (a kernel built without CONFIG_FTRACE_SYSCALLS)"
      : "";
    report.problems.push(`the kernel has no tracepoint ${list}${hint}`);
  }
}

/**
 * Throw when the report lists problems: a {@linkcode PrivilegeError} when root is among
 * them, else a {@linkcode SidecarError}. The message names every problem:
 * `Cannot start bpftrace: tracefs is not mounted at /sys/kernel/tracing and wrapp is not root`.
 */
export function assertReady(report: PreflightReport): void {
  if (report.problems.length === 0) return;
  const message = `Cannot start bpftrace: ${report.problems.join("; ")}`;
  throw report.needsRoot ? new PrivilegeError(message) : new SidecarError(message);
}

/** `"0.17.0"` from `bpftrace --version` ("bpftrace v0.17.0"), or what went wrong. */
export async function bpftraceVersion(path: string): Promise<string | { error: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  const match = /v?(\d+\.\d+(?:\.\d+)?)/.exec(text);
  if (!output.success || !match) {
    return {
      error: `exit code ${output.code}, output ${JSON.stringify(text.trim().slice(0, 200))}`,
    };
  }
  return match[1];
}

function _parseVersion(text: string): number[] {
  return text.split(".").map((part) => Number(part));
}

function _compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function _mountTracefs(dir: string): Promise<string | undefined> {
  try {
    const output = await new Deno.Command("mount", {
      args: ["-t", "tracefs", "nodev", dir],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (output.success) return undefined;
    return new TextDecoder().decode(output.stderr).trim() || `exit code ${output.code}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
