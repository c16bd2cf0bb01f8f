/**
 * The built-in workloads of `wrapp record`, and what `--list` says about them.
 *
 * @module
 */

import { findNeeds, needPrograms } from "./app_programs.ts";
import { NGINX_WORKLOAD } from "./nginx_workload.ts";
import { POSTGRESQL_WORKLOAD } from "./postgresql_workload.ts";
import { REDIS_WORKLOAD } from "./redis_workload.ts";
import type { Workload } from "./workload.ts";

/** Every built-in workload, by name, in `--list` order. */
export const WORKLOADS: Readonly<Record<string, Workload>> = {
  redis: REDIS_WORKLOAD,
  nginx: NGINX_WORKLOAD,
  postgresql: POSTGRESQL_WORKLOAD,
};

/** Other names people type for a workload. */
export const WORKLOAD_ALIASES: Readonly<Record<string, string>> = {
  postgres: "postgresql",
  pg: "postgresql",
  "redis-server": "redis",
};

/**
 * The `--list` text: each workload, what it runs, and for each program whether it is
 * installed (and where) or which Debian package to install.
 */
export async function describeWorkloads(
  workloads: readonly Workload[] = Object.values(WORKLOADS),
  options: { path?: string } = {},
): Promise<string> {
  const nameWidth = Math.max(...workloads.map((w) => w.name.length));
  const programWidth = Math.max(
    ...workloads.flatMap((w) =>
      w.needs.map((n) => needPrograms(n).map((s) => s.program).join(" / ").length)
    ),
  );
  const indent = " ".repeat(nameWidth + 2);
  const lines = ["Built-in workloads (sudo wrapp record NAME):", ""];
  for (const workload of workloads) {
    lines.push(`${workload.name.padEnd(nameWidth)}  ${workload.description}`);
    const found = await findNeeds(workload.needs, options);
    workload.needs.forEach((need, index) => {
      const specs = needPrograms(need);
      const hit = found[index];
      const others = specs.filter((s) => s.program !== hit?.program).map((s) => s.program);
      if (hit) {
        const alternatives = specs.length > 1 && specs[0].program !== hit.program
          ? ` (instead of ${specs[0].program}: apt-get install ${specs[0].package})`
          : others.length > 0
          ? ` (else ${others.join(", ")})`
          : "";
        lines.push(`${indent}✓ ${hit.program.padEnd(programWidth)}  ${hit.path}${alternatives}`);
      } else {
        const packages = [...new Set(specs.map((s) => s.package))].join(" or ");
        lines.push(
          `${indent}✗ ${
            specs.map((s) => s.program).join(" / ").padEnd(programWidth)
          }  not installed: apt-get install ${packages}`,
        );
      }
    });
    lines.push("");
  }
  lines.push('Any other command: sudo wrapp record --custom "COMMAND ARGS" [--duration TIME]');
  return lines.join("\n");
}
