/**
 * Finding the programs a recording needs, or saying which Debian package provides a
 * missing one: `Cannot record "nginx": nginx is not installed (Debian package: nginx)`.
 *
 * @module
 */

import { join } from "node:path";
import { SpawnError } from "../../core/errors.ts";
import { DEFAULT_PATH, findExecutable } from "../../core/find_executable.ts";

/** A program a workload runs. */
export interface ProgramSpec {
  /** Its name, looked up in `dirs`, then `PATH`, then the standard folders (sbin included). */
  readonly program: string;
  /** The Debian package that provides it. */
  readonly package: string;
  /** Folders searched before `PATH` (e.g. `/usr/lib/postgresql/15/bin`). */
  readonly dirs?: () => Promise<string[]>;
}

/** A need: one program, or the first installed of several (`wrk`, else `curl`). */
export type ProgramNeed = ProgramSpec | readonly ProgramSpec[];

/** Where a need was found: the program chosen and its absolute path. */
export interface FoundProgram {
  readonly program: string;
  readonly path: string;
}

/**
 * The absolute path of `spec.program`, or `undefined`: searched in `spec.dirs`, then in
 * `PATH` like a shell does (sudo's PATH has `/usr/sbin`, where nginx is).
 */
export async function findAppProgram(
  spec: ProgramSpec,
  options: { path?: string } = {},
): Promise<string | undefined> {
  const search = [
    ...(spec.dirs ? await spec.dirs() : []),
    ...(options.path ?? Deno.env.get("PATH") ?? DEFAULT_PATH).split(":").filter((d) => d !== ""),
  ];
  return await findExecutable(spec.program, { path: [...new Set(search)].join(":") });
}

/** The program of each need, in order; `undefined` for a need none of whose programs is installed. */
export async function findNeeds(
  needs: readonly ProgramNeed[],
  options: { path?: string } = {},
): Promise<(FoundProgram | undefined)[]> {
  const found: (FoundProgram | undefined)[] = [];
  for (const need of needs) {
    let hit: FoundProgram | undefined;
    for (const spec of _alternatives(need)) {
      const path = await findAppProgram(spec, options);
      if (path !== undefined) {
        hit = { program: spec.program, path };
        break;
      }
    }
    found.push(hit);
  }
  return found;
}

/**
 * Every need's program by name (`{ "redis-server": "/usr/bin/redis-server", … }`).
 * Throws a {@linkcode SpawnError} (exit 127) naming the first missing program and its
 * Debian package.
 */
export async function requirePrograms(
  app: string,
  needs: readonly ProgramNeed[],
  options: { path?: string } = {},
): Promise<Record<string, string>> {
  const found = await findNeeds(needs, options);
  const paths: Record<string, string> = {};
  for (const [index, need] of needs.entries()) {
    const hit = found[index];
    if (hit === undefined) throw new SpawnError(missingProgramMessage(app, need));
    paths[hit.program] = hit.path;
  }
  return paths;
}

/** `Cannot record "nginx": nginx is not installed (Debian package: nginx)`, or the same for alternatives. */
export function missingProgramMessage(app: string, need: ProgramNeed): string {
  const specs = _alternatives(need);
  if (specs.length === 1) {
    return `Cannot record "${app}": ${specs[0].program} is not installed (Debian package: ${
      specs[0].package
    })`;
  }
  const names = specs.map((s) => s.program);
  const packages = [...new Set(specs.map((s) => s.package))];
  return `Cannot record "${app}": neither ${names.slice(0, -1).join(", ")} nor ${
    names.at(-1)
  } is installed (Debian packages: ${packages.join(" or ")})`;
}

/** The programs of a need. */
export function needPrograms(need: ProgramNeed): readonly ProgramSpec[] {
  return _alternatives(need);
}

function _alternatives(need: ProgramNeed): readonly ProgramSpec[] {
  return Array.isArray(need) ? need as readonly ProgramSpec[] : [need as ProgramSpec];
}

/**
 * Debian keeps PostgreSQL's server programs out of PATH, in `/usr/lib/postgresql/<major>/bin`:
 * those folders, newest major version first.
 */
export async function postgresqlBinDirs(root = "/usr/lib/postgresql"): Promise<string[]> {
  const versions: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (/^\d+(\.\d+)?$/.test(entry.name)) versions.push(entry.name);
    }
  } catch {
    return [];
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => join(root, version, "bin"));
}
