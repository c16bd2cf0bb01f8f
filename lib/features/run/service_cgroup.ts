/**
 * `[limits]` in a cgroup: the service runs in a cgroup of its own whose limits the kernel
 * enforces, like systemd's `MemoryMax=` and `CPUQuota=`.
 *
 * | | cgroup v2 (`cgroup2` mount) | cgroup v1 (`memory`, `cpu` mounts) |
 * | --- | --- | --- |
 * | folder | `<mount>/wrapp/<name>` | `<mount>/<wrapp's own cgroup>/wrapp/<name>`, per controller |
 * | memory_max | `memory.max` | `memory.limit_in_bytes` |
 * | cpu_max | `cpu.max` (`quota 100000`) | `cpu.cfs_quota_us`, `cpu.cfs_period_us` |
 * | OOM kills | `oom_kill` of `memory.events` | `oom_kill` of `memory.oom_control` |
 * | peak | `memory.peak` (Linux 5.19+) | `memory.max_usage_in_bytes` |
 *
 * In v2 a cgroup that holds processes cannot hand controllers to its children, so the
 * service's cgroup is not under wrapp's own (systemd's `wrapp@x.service`) but under
 * `wrapp/` at the top. In v1 it nests under wrapp's own, so a unit's limits still apply.
 *
 * The service is moved in while it is held before its exec (./../sources/spawn_stopped.ts),
 * so all of its code runs under the limits; the cgroup is removed when the run ends.
 * {@linkcode planLimits} says whether this is possible and, if not, why: then wrapp
 * watches the RSS instead (./metrics_sampler.ts).
 *
 * `WRAPP_CGROUP_ROOT` makes wrapp look for the cgroup filesystem in that folder instead of
 * the mounts: a test hook (an empty folder means no cgroups).
 *
 * @module
 */

import { dirname, join } from "../../core/posix_path.ts";
import { describeCause, WrappError } from "../../core/errors.ts";
import type { LimitsConfig } from "../../core/config/config.ts";
import { readTextOrUndefined } from "../../core/read_text_or_undefined.ts";

/** The period of the CPU quota, µs (systemd's and the kernel's default). */
export const CPU_PERIOD_US = 100_000;

/** Where the cgroups of services go. */
export interface CgroupLayout {
  /** The cgroup version. */
  version: 1 | 2;
  /** Folder that holds the services' memory cgroups (v2: the one folder for every controller). */
  memoryParent?: string;
  /** Folder that holds the services' CPU cgroups. */
  cpuParent?: string;
  /** v2: the folder whose `cgroup.subtree_control` must hand the controllers to `wrapp/`. */
  v2Root?: string;
}

/** How `[limits]` will be enforced. */
export interface LimitsPlan {
  /** `cgroup`: by the kernel; `rss`: wrapp stops the service over memory_max; `none`: not at all. */
  method: "cgroup" | "rss" | "none";
  /** Why this method, in words (for `wrapp doctor --config` and the start notice): "wrapp is not root (…)". */
  reason: string;
  /** Where the cgroup goes, for `cgroup`. */
  layout?: CgroupLayout;
  /** What is not enforced, and why (cpu_max without a cgroup). */
  unenforced?: string;
}

/** Options of {@linkcode planLimits}. */
export interface PlanLimitsOptions {
  /** wrapp's user id. Default `Deno.uid()`. */
  uid?: number | null;
  /** Look for the cgroup filesystem here instead of in the mounts. Default `$WRAPP_CGROUP_ROOT`. */
  cgroupRoot?: string;
  /** Where procfs is mounted (mountinfo, wrapp's own cgroup). Default `/proc`. */
  procDir?: string;
}

/** A cgroup operation failed. */
export class CgroupError extends WrappError {
  /** Exit code 1: the run continues without the cgroup. */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 1, cause: options.cause });
  }
}

/** A cgroup mount from mountinfo. */
export interface CgroupMount {
  /** 1 or 2. */
  version: 1 | 2;
  /** Where it is mounted. */
  mountPoint: string;
  /** The cgroup at the mount point (not `/` in a container). */
  root: string;
  /** v1: the controllers of the hierarchy. */
  controllers: string[];
  /** Mounted read-only. */
  readOnly: boolean;
}

/** The cgroup mounts in the text of `/proc/<pid>/mountinfo`. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const fields = left.split(" ");
    const [fsType, , superOptions = ""] = right.split(" ");
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const options = `${fields[5] ?? ""},${superOptions}`.split(",");
    mounts.push({
      version: fsType === "cgroup2" ? 2 : 1,
      mountPoint: _unescape(fields[4]),
      root: _unescape(fields[3]),
      controllers: fsType === "cgroup"
        ? superOptions.split(",").filter((o) => o !== "rw" && o !== "ro")
        : [],
      readOnly: options.includes("ro"),
    });
  }
  return mounts;
}

/** wrapp's own cgroup per v1 controller (and `""` for v2) from `/proc/<pid>/cgroup` text. */
export function parseOwnCgroups(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    if (match[1] === "") paths.set("", match[2]);
    for (const controller of match[1].split(",")) if (controller) paths.set(controller, match[2]);
  }
  return paths;
}

/**
 * How `limits` will be enforced on this machine: in a cgroup when wrapp is root and a
 * writable cgroup filesystem has the controllers, else from the RSS (memory_max only).
 */
export function planLimits(limits: LimitsConfig, options: PlanLimitsOptions = {}): LimitsPlan {
  const wanted = [
    ...(limits.memoryMaxBytes !== undefined ? ["memory"] : []),
    ...(limits.cpuMaxPercent !== undefined ? ["cpu"] : []),
  ];
  const uid = options.uid === undefined ? Deno.uid() : options.uid;
  let problem: string;
  if (wanted.length === 0) {
    return { method: "none", reason: "[limits] sets neither memory_max nor cpu_max" };
  }
  if (uid !== 0) {
    problem = "wrapp is not root (a cgroup of its own needs root)";
  } else {
    const found = findCgroupLayout(wanted, options);
    if ("layout" in found) {
      return {
        method: "cgroup",
        reason: `wrapp is root and cgroup v${found.layout.version} has the ${
          wanted.join(" and ")
        } controller${wanted.length > 1 ? "s" : ""} (${found.where})`,
        layout: found.layout,
      };
    }
    problem = found.problem;
  }
  const cpu = limits.cpuMaxPercent === undefined ? undefined : `cpu_max needs a cgroup: ${problem}`;
  if (limits.memoryMaxBytes === undefined) {
    return { method: "none", reason: problem, unenforced: cpu };
  }
  return { method: "rss", reason: problem, ...(cpu ? { unenforced: cpu } : {}) };
}

/**
 * Where the cgroups for `controllers` go, or why there is no such place: the cgroup
 * filesystem of the mounts (or of `cgroupRoot`), with every controller, writable.
 */
export function findCgroupLayout(
  controllers: readonly string[],
  options: PlanLimitsOptions = {},
): { layout: CgroupLayout; where: string } | { problem: string } {
  const procDir = options.procDir ?? "/proc";
  const root = options.cgroupRoot ?? (Deno.env.get("WRAPP_CGROUP_ROOT") || undefined);
  let mounts: CgroupMount[];
  let own: Map<string, string>;
  if (root !== undefined) {
    // A folder standing for /sys/fs/cgroup: v2 when it has cgroup.controllers, else v1 folders.
    own = new Map();
    mounts = _exists(join(root, "cgroup.controllers"))
      ? [{ version: 2, mountPoint: root, root: "/", controllers: [], readOnly: false }]
      : _listDir(root).map((name) => ({
        version: 1,
        mountPoint: join(root, name),
        root: "/",
        controllers: name.split(","),
        readOnly: false,
      }));
  } else {
    try {
      mounts = parseCgroupMounts(Deno.readTextFileSync(`${procDir}/self/mountinfo`));
      own = parseOwnCgroups(Deno.readTextFileSync(`${procDir}/self/cgroup`));
    } catch (error) {
      return { problem: `cannot read the mounts: ${describeCause(error)}` };
    }
  }
  const where = root === undefined ? "" : ` in "${root}" ($WRAPP_CGROUP_ROOT)`;
  // v2 wherever its root cgroup offers the controllers; a v2 mount without them (systemd's
  // hybrid layout, /sys/fs/cgroup/unified) leaves them to v1.
  for (const mount of mounts.filter((m) => m.version === 2)) {
    const available =
      readTextOrUndefined(join(mount.mountPoint, "cgroup.controllers"))?.trim().split(/\s+/) ??
        [];
    if (!controllers.every((c) => available.includes(c))) continue;
    if (mount.readOnly) return { problem: `cgroup2 at "${mount.mountPoint}" is read-only` };
    const parent = join(mount.mountPoint, "wrapp");
    return {
      layout: { version: 2, memoryParent: parent, cpuParent: parent, v2Root: mount.mountPoint },
      where: `"${parent}"`,
    };
  }
  const layout: CgroupLayout = { version: 1 };
  for (const controller of controllers) {
    const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    if (!mount) {
      return {
        problem: `no cgroup filesystem${where} has the ${controller} controller${
          mounts.length === 0 ? " (none is mounted)" : ""
        }`,
      };
    }
    if (mount.readOnly) {
      return { problem: `the ${controller} cgroup at "${mount.mountPoint}" is read-only` };
    }
    // wrapp's own cgroup, relative to what the mount shows (a container sees its own as "/").
    let path = own.get(controller) ?? "/";
    if (mount.root !== "/" && path.startsWith(mount.root)) path = path.slice(mount.root.length);
    const parent = join(mount.mountPoint, path, "wrapp");
    if (controller === "memory") layout.memoryParent = parent;
    else layout.cpuParent = parent;
  }
  return {
    layout,
    where: [layout.memoryParent, layout.cpuParent].filter(Boolean).map((p) => `"${p}"`).join(
      ", ",
    ),
  };
}

/** What the kernel did to the service's cgroup, read at the end of a run. */
export interface CgroupOutcome {
  /** Processes the OOM killer killed. */
  oomKills: number;
  /** Highest memory use of the cgroup (with its page cache), bytes, when the kernel keeps it. */
  peakBytes?: number;
}

/** One run's cgroup: created with the limits, holding the service, removed at its end. */
export class ServiceCgroup {
  /** The cgroup folders (one per controller in v1, one in v2). */
  readonly folders: readonly string[];
  readonly #layout: CgroupLayout;
  readonly #memory: string | undefined;

  private constructor(layout: CgroupLayout, folders: string[], memory: string | undefined) {
    this.#layout = layout;
    this.folders = folders;
    this.#memory = memory;
  }

  /**
   * Create `<parent>/<name>` with `limits` written in. Throws {@linkcode CgroupError}
   * (what failed, on which file) and leaves nothing behind.
   */
  static create(layout: CgroupLayout, name: string, limits: LimitsConfig): ServiceCgroup {
    const created: string[] = [];
    try {
      const memoryMax = limits.memoryMaxBytes;
      const cpuMax = limits.cpuMaxPercent;
      const quota = cpuMax === undefined ? undefined : Math.round(cpuMax / 100 * CPU_PERIOD_US);
      if (layout.version === 2) {
        const parent = layout.memoryParent ?? layout.cpuParent!;
        const needed = [
          ...(memoryMax !== undefined ? ["memory"] : []),
          ...(quota !== undefined ? ["cpu"] : []),
        ];
        _mkdir(parent);
        // Hand the controllers down: root → wrapp/ → the service's cgroup.
        for (const folder of [layout.v2Root ?? dirname(parent), parent]) {
          const file = join(folder, "cgroup.subtree_control");
          const enabled = readTextOrUndefined(file)?.trim().split(/\s+/) ?? [];
          const missing = needed.filter((c) => !enabled.includes(c));
          if (missing.length > 0) _write(file, missing.map((c) => `+${c}`).join(" "));
        }
        const folder = join(parent, name);
        _mkdir(folder);
        created.push(folder);
        if (memoryMax !== undefined) _write(join(folder, "memory.max"), String(memoryMax));
        if (quota !== undefined) _write(join(folder, "cpu.max"), `${quota} ${CPU_PERIOD_US}`);
        return new ServiceCgroup(layout, created, memoryMax === undefined ? undefined : folder);
      }
      let memory: string | undefined;
      if (memoryMax !== undefined) {
        memory = join(layout.memoryParent!, name);
        _mkdir(memory, true);
        created.push(memory);
        _write(join(memory, "memory.limit_in_bytes"), String(memoryMax));
      }
      if (quota !== undefined) {
        const cpu = join(layout.cpuParent!, name);
        _mkdir(cpu, true);
        created.push(cpu);
        _write(join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
        _write(join(cpu, "cpu.cfs_quota_us"), String(quota));
      }
      return new ServiceCgroup(layout, created, memory);
    } catch (error) {
      for (const folder of created.reverse()) _rmdir(folder);
      throw error;
    }
  }

  /** Move `pid` (held before its exec) into the cgroup. Throws {@linkcode CgroupError}. */
  addProcess(pid: number): void {
    for (const folder of this.folders) _write(join(folder, "cgroup.procs"), String(pid));
  }

  /** OOM kills and peak memory so far. */
  outcome(): CgroupOutcome {
    const folder = this.#memory;
    if (folder === undefined) return { oomKills: 0 };
    const v2 = this.#layout.version === 2;
    const events = readTextOrUndefined(join(folder, v2 ? "memory.events" : "memory.oom_control")) ??
      "";
    const oomKills = Number(/^oom_kill (\d+)/m.exec(events)?.[1] ?? 0);
    const peak = Number(
      readTextOrUndefined(join(folder, v2 ? "memory.peak" : "memory.max_usage_in_bytes")),
    );
    return { oomKills, ...(Number.isFinite(peak) && peak > 0 ? { peakBytes: peak } : {}) };
  }

  /**
   * Remove the cgroup, waiting up to `timeoutMs` for its last processes to leave (a
   * killed process takes a moment). Resolves to what could not be removed, if anything.
   */
  async remove(timeoutMs = 2000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    let problem: string | undefined;
    for (const folder of [...this.folders].reverse()) {
      while ((problem = _rmdir(folder)) !== undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (problem !== undefined) return `cannot remove cgroup "${folder}": ${problem}`;
    }
    return undefined;
  }
}

function _mkdir(path: string, recursive = false): void {
  try {
    Deno.mkdirSync(path, { recursive });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return; // left by a killed wrapp: reused
    throw new CgroupError(`Cannot create cgroup "${path}": ${describeCause(error)}`, {
      cause: error,
    });
  }
}

function _write(path: string, text: string): void {
  try {
    Deno.writeTextFileSync(path, text);
  } catch (error) {
    throw new CgroupError(`Cannot write "${text}" to "${path}": ${describeCause(error)}`, {
      cause: error,
    });
  }
}

/** rmdir (a cgroup folder is removed whole, with its files); the reason it failed, if it did. */
function _rmdir(path: string): string | undefined {
  try {
    Deno.removeSync(path);
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    return describeCause(error);
  }
}

function _exists(path: string): boolean {
  return readTextOrUndefined(path) !== undefined;
}

function _listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    return [];
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function _unescape(text: string | undefined): string {
  return (text ?? "").replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}
