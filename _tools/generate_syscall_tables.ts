/**
 * Generates the syscall number → name tables and the errno table from the Linux UAPI
 * headers, so the data comes from the kernel's own definitions rather than from memory:
 *
 * | output (in `lib/pipeline/syscalls/`) | source |
 * | --- | --- |
 * | `syscall_names_x86_64.ts` | `/usr/include/x86_64-linux-gnu/asm/unistd_64.h` (Debian `linux-libc-dev`) |
 * | `syscall_names_aarch64.ts` | `/usr/aarch64-linux-gnu/include/asm/unistd.h` → `asm-generic/unistd.h` (`linux-libc-dev-arm64-cross`) |
 * | `errno_names.ts` | `asm-generic/errno-base.h` and `asm-generic/errno.h` (the same on both architectures) |
 *
 * The headers are run through the C preprocessor (`cpp -dM`, from gcc) with only the
 * architecture's include folder, so `asm-generic/unistd.h` sees the arm64 `__ARCH_WANT_*`
 * switches and its `__NR3264_*` indirections resolve as they do for the real kernel.
 *
 * Usage (from the repository root; needs gcc and both header packages):
 *
 * ```sh
 * apt-get install gcc linux-libc-dev linux-libc-dev-arm64-cross
 * deno run -A _tools/generate_syscall_tables.ts
 * ```
 *
 * `generate_syscall_tables_test.ts` checks that the committed files match the headers.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";

/** Where each architecture's headers live, and which header defines `__NR_*`. */
export const HEADER_SOURCES = Object.freeze({
  x86_64: { includeDir: "/usr/include/x86_64-linux-gnu", header: "asm/unistd_64.h" },
  aarch64: { includeDir: "/usr/aarch64-linux-gnu/include", header: "asm/unistd.h" },
  errno: { includeDir: "/usr/include", header: "asm-generic/errno.h" },
});

/** The files {@linkcode generateSyscallTables} writes, relative to the repository root. */
export const GENERATED_FILES = Object.freeze({
  x86_64: "lib/pipeline/syscalls/syscall_names_x86_64.ts",
  aarch64: "lib/pipeline/syscalls/syscall_names_aarch64.ts",
  errno: "lib/pipeline/syscalls/errno_names.ts",
});

/** The repository root, where the paths of {@linkcode GENERATED_FILES} start. */
export const REPOSITORY_ROOT: URL = new URL("../", import.meta.url);

/** Macros `cpp -dM` prints after including `header` from `includeDir` only, name → value text. */
export async function readMacros(includeDir: string, header: string): Promise<Map<string, string>> {
  const child = new Deno.Command("cpp", {
    args: ["-nostdinc", "-isystem", includeDir, "-dM", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`#include <${header}>\n`));
  await writer.close();
  const output = await child.output();
  if (!output.success) {
    throw new Error(
      `cpp could not read <${header}> from "${includeDir}": ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
  const macros = new Map<string, string>();
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    const match = /^#define\s+(\w+)\s+(.*?)\s*$/.exec(line);
    if (match) macros.set(match[1], match[2]);
  }
  return macros;
}

/** The numeric value of macro `name`, following macros that are another macro's name; else undefined. */
export function resolveMacro(
  macros: ReadonlyMap<string, string>,
  name: string,
): number | undefined {
  let value = macros.get(name);
  for (let depth = 0; value !== undefined && depth < 8; depth++) {
    const text = value.replace(/^\((.*)\)$/, "$1").trim();
    if (/^\d+$/.test(text)) return Number(text);
    value = /^\w+$/.test(text) ? macros.get(text) : undefined;
  }
  return undefined;
}

/** Syscall number → name from `__NR_<name>` macros (markers like `__NR_syscalls` left out). */
export function syscallNumbers(macros: ReadonlyMap<string, string>): Map<number, string> {
  const table = new Map<number, string>();
  for (const name of macros.keys()) {
    if (!name.startsWith("__NR_")) continue;
    const syscall = name.slice("__NR_".length);
    if (syscall === "syscalls" || syscall === "arch_specific_syscall") continue;
    const number = resolveMacro(macros, name);
    if (number === undefined) continue;
    const previous = table.get(number);
    if (previous !== undefined && previous !== syscall) {
      throw new Error(`Syscall ${number} is both "${previous}" and "${syscall}"`);
    }
    table.set(number, syscall);
  }
  return new Map([...table].sort((a, b) => a[0] - b[0]));
}

/** errno number → name from `E<NAME>` macros with a numeric value (aliases such as `EWOULDBLOCK` left out). */
export function errnoNumbers(macros: ReadonlyMap<string, string>): Map<number, string> {
  const table = new Map<number, string>();
  for (const [name, value] of macros) {
    if (!/^E[A-Z0-9]+$/.test(name) || !/^\d+$/.test(value)) continue;
    table.set(Number(value), name);
  }
  return new Map([...table].sort((a, b) => a[0] - b[0]));
}

/** TypeScript source of a generated table, formatted as `deno fmt` would. */
export function renderTable(options: {
  constant: string;
  doc: string;
  source: string;
  table: ReadonlyMap<number, string>;
}): string {
  const lines = [
    "// Generated by _tools/generate_syscall_tables.ts — do not edit by hand.",
    `// Source: ${options.source}`,
    "",
    `/** ${options.doc} */`,
    `export const ${options.constant}: Readonly<Record<number, string>> = Object.freeze({`,
    ...[...options.table].map(([number, name]) => `  ${number}: "${name}",`),
    "});",
    "",
  ];
  return lines.join("\n");
}

/** Generate every table: file name (see {@linkcode GENERATED_FILES}) → TypeScript source. */
export async function generateSyscallTables(): Promise<Record<string, string>> {
  const x86 = HEADER_SOURCES.x86_64;
  const arm = HEADER_SOURCES.aarch64;
  const err = HEADER_SOURCES.errno;
  const x86Table = syscallNumbers(await readMacros(x86.includeDir, x86.header));
  const armTable = syscallNumbers(await readMacros(arm.includeDir, arm.header));
  const errnoTable = errnoNumbers(await readMacros(err.includeDir, err.header));
  return {
    [GENERATED_FILES.x86_64]: renderTable({
      constant: "SYSCALL_NAMES_X86_64",
      doc: "x86_64 syscall number → name.",
      source: `${x86.includeDir}/${x86.header}`,
      table: x86Table,
    }),
    [GENERATED_FILES.aarch64]: renderTable({
      constant: "SYSCALL_NAMES_AARCH64",
      doc: "aarch64 (arm64) syscall number → name.",
      source: `${arm.includeDir}/${arm.header} (asm-generic/unistd.h)`,
      table: armTable,
    }),
    [GENERATED_FILES.errno]: renderTable({
      constant: "ERRNO_NAMES",
      doc: "errno number → name (asm-generic, the same on x86_64 and aarch64).",
      source: `${err.includeDir}/asm-generic/errno-base.h and errno.h`,
      table: errnoTable,
    }),
  };
}

if (import.meta.main) {
  for (const [file, text] of Object.entries(await generateSyscallTables())) {
    const path = fromFileUrl(new URL(file, REPOSITORY_ROOT));
    await Deno.writeTextFile(path, text);
    console.log(`wrote ${path}`);
  }
}
