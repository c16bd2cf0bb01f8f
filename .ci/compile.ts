/**
 * Build the wrapp binary with `deno compile`, embedding only what it runs, or check what
 * such a build embeds.
 *
 *   deno run -A .ci/compile.ts --target aarch64-unknown-linux-gnu --output dist/wrapp-aarch64
 *   deno run -A .ci/compile.ts --check        # deno task compile:check
 *
 * What is left out, and why it is safe:
 * - npm packages main.ts does not reach (`--exclude-unused-npm`): playwright-core, which
 *   only tests use, was 13.3 MB of the binary. Every `import()` in wrapp has a literal
 *   specifier, so the packages the commands load on demand are still found.
 * - type declarations (`*.d.ts`, `*.d.mts`, `*.d.cts`), source maps and Markdown files of
 *   the npm packages: only the type checker reads the first, and nothing at run time reads
 *   the others. `deno compile --exclude` takes exact paths (no globs), so they are listed
 *   one by one from the npm cache.
 *
 * `--check` compiles for this machine with DENORT_BIN pointed at the deno binary, so it
 * needs no download; that output is only the deno CLI with the files appended and cannot
 * run as wrapp, so it is deleted. It reads the list of embedded files deno compile prints
 * and fails when they exceed the budget or lack a file wrapp needs at run time.
 *
 * @module
 */

import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url).pathname;
const ENTRY = "main.ts";
const MiB = 1024 * 1024;

/**
 * Budget for the embedded files, in MiB as deno compile counts them. The TUI needs ink,
 * React and react-reconciler (with es-toolkit under ink): about 4 MiB of JavaScript
 * together, so the 4 MiB once aimed at for everything is out of reach without dropping
 * `wrapp trace --tui`; wrapp's own modules are 2.1 MiB more. 8 MiB leaves ~7 % headroom
 * over the 7.44 MiB embedded today, so test-only packages (playwright-core: 13 MiB) or
 * type declarations (4.8 MiB) coming back fail.
 */
const BUDGET_MIB = 8;

/** Embedded files wrapp cannot run without, and what each one is. */
const REQUIRED: Record<string, string> = {
  "bpf/syscalls.bt": "the bpftrace program of wrapp trace and [trace]",
  "bpf/fatal_signal.bt": "the bpftrace program of the crash backtrace",
  "lib/memprof/memprof_program.ts": "the bpftrace program of wrapp memprof (bpf/memprof.bt)",
  "lib/memprof/page_assets.ts": "the memprof page (lib/memprof/page/)",
};

/**
 * Most bytes an npm package may embed: none for one only tests use; for a type-only one
 * its package.json and licence (its types are left out; the package itself stays
 * known to the npm resolution the binary carries).
 */
const PACKAGE_LIMITS: Record<string, number> = {
  "playwright-core": 0,
  "@types/react": 16 * 1024,
  "csstype": 16 * 1024,
  "type-fest": 16 * 1024,
};

/**
 * V8 flags baked into the binary. A young generation of at most 8 MiB per semi-space
 * lowered the peak RSS of 1M lines through `wrapp run` from 284 to 224 MiB at the same
 * wall time (CPU within the noise, +3 % median); no flag measured changed an idle
 * wrapp's RSS (README, "What wrapp costs").
 */
const V8_FLAGS: string[] = ["--max-semi-space-size=8"];

/**
 * Unstable Deno features the binary needs, and what for: deno compile takes them from
 * deno.json's "unstable" into the binary's metadata.
 */
const UNSTABLE: Record<string, string> = {
  net: "Deno.listenDatagram, the [watchdog] notify socket",
};

/** The unstable features in the metadata deno compile wrote into `binary` (JSON text in it). */
async function _unstableFeatures(binary: string): Promise<string[]> {
  const text = new TextDecoder("latin1").decode(await Deno.readFile(binary));
  const match = /"unstable_config":\{[^{}]*"features":(\[[^\]]*\])/.exec(text);
  return match ? JSON.parse(match[1]) : [];
}

const _NOT_RUNTIME = /(\.d\.[cm]?ts|\.js\.flow|\.map|\.md)$/i;

/** Paths under the npm cache of the files no run of wrapp reads. */
async function _excludes(): Promise<string[]> {
  const info = JSON.parse(await _deno(["info", "--json"]));
  const graph = JSON.parse(await _deno(["info", "--json", ENTRY]));
  const registry = `${info.npmCache}/registry.npmjs.org`;
  const excludes: string[] = [];
  for (const id of Object.keys(graph.npmPackages ?? {})) {
    // "ink@8.0.0_@types+react@19.3.0_react@19.3.1": name@version, then peer dependencies.
    const [, name, version] = id.match(/^(@?[^@]+)@([^_]+)/)!;
    await _collect(`${registry}/${name}/${version}`, excludes);
  }
  return excludes;
}

/** Add the files under `dir` that match _NOT_RUNTIME; a folder holding only such files is added whole. */
async function _collect(dir: string, into: string[]): Promise<boolean> {
  let all = true;
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        const sub: string[] = [];
        if (await _collect(path, sub)) found.push(path);
        else {
          found.push(...sub);
          all = false;
        }
      } else if (_NOT_RUNTIME.test(entry.name)) {
        found.push(path);
      } else {
        all = false;
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false; // not in this cache: nothing to leave out
    throw error;
  }
  if (all && found.length > 0) {
    into.push(dir);
    return true;
  }
  into.push(...found);
  return false;
}

async function _deno(args: string[], env?: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`deno ${args.slice(0, 2).join(" ")} failed:\n${text}`);
  return text;
}

function _compileArgs(output: string, target: string | undefined, excludes: string[]): string[] {
  return [
    "compile",
    "-A",
    "--exclude-unused-npm",
    ...(V8_FLAGS.length > 0 ? [`--v8-flags=${V8_FLAGS.join(",")}`] : []),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    ...excludes.flatMap((path) => ["--exclude", path]),
    ENTRY,
  ];
}

/** One line of deno compile's "Embedded Files" tree. */
interface _Embedded {
  path: string;
  bytes: number;
  folder: boolean;
}

const _UNITS: Record<string, number> = { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB };

/** Parse deno compile's tree of embedded files into paths (relative to the project) and sizes. */
function _parseTree(text: string): { files: _Embedded[]; totalBytes: number } {
  const files: _Embedded[] = [];
  const stack: string[] = [];
  for (const line of text.split("\n")) {
    const match = line.match(/^([│ ]*)[├└]─([┬─]) (.+?) \(([\d.]+)(B|KB|MB|GB)(?: - [^)]*)?\)$/);
    if (!match) continue;
    const depth = match[1].length / 2;
    stack.length = depth;
    const name = match[3].replace(/\/\*$/, "");
    stack.push(name);
    // Depth 0 is below the binary's own name; npm packages are under .deno_compile_node_modules/localhost.
    files.push({
      path: stack.join("/"),
      bytes: Number(match[4]) * _UNITS[match[5]],
      folder: match[2] === "┬",
    });
  }
  const total = text.match(/^Files: ([\d.]+)(B|KB|MB|GB)$/m);
  if (!total) throw new Error(`No "Files:" total in the output of deno compile:\n${text}`);
  return { files, totalBytes: Number(total[1]) * _UNITS[total[2]] };
}

const _NPM_ROOT = ".deno_compile_node_modules/localhost/";

/** Bytes per embedded npm package (all its versions), from the tree's package lines. */
function _packageSizes(files: _Embedded[]): Map<string, number> {
  const best = new Map<string, { depth: number; bytes: number }>();
  for (const file of files) {
    if (!file.path.startsWith(_NPM_ROOT)) continue;
    const rest = file.path.slice(_NPM_ROOT.length).split("/");
    const nameParts = rest[0].startsWith("@") ? 2 : 1;
    if (rest.length < nameParts) continue; // a scope folder such as "@types"
    const name = rest.slice(0, nameParts).join("/");
    const depth = rest.length - nameParts; // 0: the package's folder, 1: "name/version"
    const seen = best.get(name);
    if (!seen || depth < seen.depth) best.set(name, { depth, bytes: file.bytes });
  }
  return new Map([...best].map(([name, { bytes }]) => [name, bytes]));
}

function _format(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function _check(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "wrapp-compile-check-" });
  try {
    const excludes = await _excludes();
    const text = await _deno(_compileArgs(`${dir}/wrapp`, undefined, excludes), {
      DENORT_BIN: Deno.execPath(),
    });
    const { files, totalBytes } = _parseTree(text);
    const byPackage = _packageSizes(files);
    const problems: string[] = [];
    const features = await _unstableFeatures(`${dir}/wrapp`);
    for (const [feature, what] of Object.entries(UNSTABLE)) {
      if (!features.includes(feature)) {
        problems.push(`the unstable feature "${feature}" (${what}) is not on in the binary`);
      }
    }
    if (totalBytes > BUDGET_MIB * MiB) {
      problems.push(
        `the embedded files take ${_format(totalBytes)}, over the ${BUDGET_MIB} MiB budget`,
      );
    }
    for (const [path, what] of Object.entries(REQUIRED)) {
      if (!files.some((file) => file.path === path)) problems.push(`${path} (${what}) is missing`);
    }
    for (const [name, limit] of Object.entries(PACKAGE_LIMITS)) {
      const bytes = byPackage.get(name);
      if (bytes !== undefined && bytes > limit) {
        problems.push(`npm package ${name} embeds ${_format(bytes)} that never run`);
      }
    }
    for (const bt of await _btFiles()) {
      const covered = Object.keys(REQUIRED).includes(`bpf/${bt}`) ||
        Object.values(REQUIRED).some((what) => what.includes(`bpf/${bt}`));
      if (!covered) problems.push(`bpf/${bt} is not in the list of files the binary must embed`);
    }

    console.log(`deno compile embeds ${_format(totalBytes)} (budget ${BUDGET_MIB} MiB):`);
    // Top-level entries other than the npm packages: lib/, bpf/, main.ts, deno.json.
    const projectBytes = files
      .filter((file) => !file.path.includes("/") && !file.path.startsWith(".deno_compile"))
      .reduce((sum, file) => sum + file.bytes, 0);
    console.log(`  ${_format(projectBytes).padStart(10)}  wrapp's own files (lib/, bpf/, main.ts)`);
    const sorted = [...byPackage].sort((a, b) => b[1] - a[1]);
    for (const [name, bytes] of sorted.filter(([, bytes]) => bytes >= 16 * 1024)) {
      console.log(`  ${_format(bytes).padStart(10)}  npm:${name}`);
    }
    const small = sorted.filter(([, bytes]) => bytes < 16 * 1024);
    const smallBytes = small.reduce((sum, [, bytes]) => sum + bytes, 0);
    console.log(`  ${_format(smallBytes).padStart(10)}  ${small.length} smaller npm packages`);
    for (const path of Object.keys(REQUIRED)) {
      const file = files.find((file) => file.path === path);
      console.log(`  ${file ? "embedded" : "MISSING "}  ${path}`);
    }
    console.log(`  unstable  ${features.join(", ") || "none"}`);
    if (problems.length > 0) {
      console.log(`\n${text}`);
      for (const problem of problems) console.log(`compile check: ${problem}`);
      return 1;
    }
    console.log("compile check: ok");
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function _btFiles(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}bpf`)) {
    if (entry.isFile && entry.name.endsWith(".bt")) names.push(entry.name);
  }
  return names;
}

async function _build(target: string | undefined, output: string): Promise<number> {
  const excludes = await _excludes();
  const status = await new Deno.Command(Deno.execPath(), {
    args: _compileArgs(output, target, excludes),
    cwd: ROOT,
  }).spawn().status;
  return status.code;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      check: { type: "boolean" },
      target: { type: "string" },
      output: { type: "string" },
    },
  });
  if (values.check) Deno.exit(await _check());
  if (!values.output) {
    console.error("usage: .ci/compile.ts (--check | [--target TRIPLE] --output FILE)");
    Deno.exit(2);
  }
  Deno.exit(await _build(values.target, values.output));
}
